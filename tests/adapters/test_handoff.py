"""Handoff through both adapters: a human takes a conversation over, answers it through the
Twilio-like server, and hands it back; the agent stays quiet meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from web_harness import (
    ADMIN,
    AUTH_TOKEN,
    BASE_URL,
    NUMBER_A,
    PERSON,
    TWILIO_ACCOUNT_SID,
    Harness,
    MakeApp,
)

from walker_channels.models import AgentReply, AgentRequest
from walker_channels.testing.twilio_server import Received, TwilioLikeServer

CONVERSATIONS = f"{ADMIN}/conversations"
WAIT_SECONDS = 5.0


@pytest.fixture
def twilio() -> Iterator[TwilioLikeServer]:
    """A Twilio-like Messages API on 127.0.0.1, on its own event loop in a thread."""
    server = TwilioLikeServer(account_sid=TWILIO_ACCOUNT_SID, auth_token=AUTH_TOKEN)
    with start_blocking_portal() as portal:
        portal.call(server.start)
        try:
            yield server
        finally:
            portal.call(server.close)


@pytest.fixture
def app(make_app: MakeApp, twilio: TwilioLikeServer) -> Harness:
    """Real Twilio transports to ``twilio``; each message answered before the webhook returns."""
    return make_app(
        twilio_api=twilio.base_url,
        walker_public_url=BASE_URL,
        walker_webhook_processing="inline",
    )


def sent(twilio: TwilioLikeServer, count: int) -> list[Received]:
    """The message creates Twilio received, once there are ``count`` (waited for, bounded)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(twilio.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(twilio.received) == count, f"Twilio got {len(twilio.received)}, not {count}"
    return list(twilio.received)


def conversation_of(app: Harness, user: str = "alice") -> dict[str, Any]:
    """The one conversation ``user`` sees."""
    [conversation] = app.get(CONVERSATIONS, user=user).json()["items"]
    return dict(conversation)


def test_a_human_takes_over_answers_and_hands_back(app: Harness, twilio: TwilioLikeServer) -> None:
    assert app.inbound("hello").status_code == 200
    [echo] = sent(twilio, 1)
    assert echo.field("Body") == "Echo: hello"
    conversation = conversation_of(app)
    path = f"{CONVERSATIONS}/{conversation['id']}"
    assert conversation["mode"] == "agent"
    assert PERSON.lstrip("+") not in str(conversation)

    taken = app.post(f"{path}/takeover", user="alice")
    assert taken.status_code == 200, taken.text
    assert (taken.json()["mode"], taken.json()["taken_by"]) == ("human", "alice")

    assert app.inbound("is anybody there?").status_code == 200
    time.sleep(0.2)
    assert len(twilio.received) == 1  # no agent reply and no holding message
    assert app.get(f"{CONVERSATIONS}", user="alice", mode="human").json()["items"]
    transcript = app.get(path, user="alice").json()["transcript"]
    assert transcript[-1]["text"] == "is anybody there?"

    replied = app.post(f"{path}/reply", {"text": "Hi, Alice here. How can I help?"}, "alice")
    assert replied.status_code == 200, replied.text
    assert replied.json()["receipt"]["state"] == "sent"
    human = sent(twilio, 2)[1]
    assert (human.field("To"), human.field("From")) == (
        f"whatsapp:{PERSON}",
        f"whatsapp:{NUMBER_A}",
    )
    assert human.field("Body") == "Hi, Alice here. How can I help?"
    assert human.field("StatusCallback")  # delivery is tracked like every send
    lines = app.get(path, user="alice").json()["transcript"]
    assert ("human", "Hi, Alice here. How can I help?") in [
        (e["purpose"], e["text"]) for e in lines
    ]
    assert {"type": "human_reply", "by": "alice"}.items() <= lines[-1].items()

    released = app.post(f"{path}/release", user="alice")
    assert (released.status_code, released.json()["mode"]) == (200, "agent")
    assert app.inbound("thanks").status_code == 200
    assert sent(twilio, 3)[2].field("Body") == "Echo: thanks"
    types = [e["type"] for e in app.get(path, user="root").json()["transcript"]]
    assert types.count("handoff_started") == types.count("handoff_ended") == 1


def test_a_reply_needs_a_takeover_and_a_release_needs_a_human(app: Harness) -> None:
    app.inbound("hello")
    path = f"{CONVERSATIONS}/{conversation_of(app)['id']}"
    assert app.post(f"{path}/reply", {"text": "hi"}, "alice").status_code == 409
    assert app.post(f"{path}/release", user="alice").status_code == 409
    assert app.post(f"{path}/reply", {}, "alice").status_code == 422


def test_of_two_humans_taking_over_at_once_one_wins(app: Harness) -> None:
    app.inbound("hello")
    path = f"{CONVERSATIONS}/{conversation_of(app)['id']}/takeover"
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda user: app.post(path, user=user), ["alice", "root"]))
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json()["taken_by"]
    assert conversation_of(app, "root")["taken_by"] == winner


def test_another_tenants_conversation_is_not_found(app: Harness) -> None:
    app.inbound("hello")
    conversation_id = conversation_of(app)["id"]
    path = f"{CONVERSATIONS}/{conversation_id}"
    assert app.get(CONVERSATIONS, user="bob").json()["items"] == []
    assert app.get(CONVERSATIONS, user="bob", tenant_id="tenant-a").status_code == 403
    assert app.get(path, user="bob").status_code == 404
    for action in ("takeover", "release"):
        assert app.post(f"{path}/{action}", user="bob").status_code == 404
    assert app.post(f"{path}/reply", {"text": "hi"}, "bob").status_code == 404
    assert app.get(path, user=None).status_code == 401
    assert app.post(f"{path}/takeover", user=None).status_code == 401
    assert app.get(f"{CONVERSATIONS}/{'0' * 32}", user="root").status_code == 404
    assert app.get(path, user="root").status_code == 200  # superusers see every tenant


def test_an_idle_human_conversation_goes_back_to_the_agent(
    make_app: MakeApp, twilio: TwilioLikeServer
) -> None:
    app = make_app(
        twilio_api=twilio.base_url,
        walker_public_url=BASE_URL,
        walker_webhook_processing="inline",
        walker_handoff_idle_timeout=0.2,
        walker_sweep_interval=0.05,
    )
    app.inbound("hello")
    path = f"{CONVERSATIONS}/{conversation_of(app)['id']}"
    assert app.post(f"{path}/takeover", user="alice").status_code == 200

    deadline = time.monotonic() + WAIT_SECONDS
    while conversation_of(app)["mode"] == "human" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert conversation_of(app)["mode"] == "agent"
    ended = [e for e in app.get(path).json()["transcript"] if e["type"] == "handoff_ended"]
    assert [e["by"] for e in ended] == ["system:idle"]
    app.inbound("back again")
    assert sent(twilio, 2)[1].field("Body") == "Echo: back again"


def test_the_person_asks_for_a_human_with_a_keyword(make_app: MakeApp) -> None:
    app = make_app(walker_handoff_keywords="human, agent", walker_webhook_processing="inline")
    app.inbound("Human!")
    conversation = conversation_of(app)
    assert (conversation["mode"], conversation["taken_by"]) == ("human", "person")
    assert app.whatsapp.sent == []
    app.inbound("I am still here")
    assert app.whatsapp.sent == []


def test_the_agent_asks_for_a_human_in_its_reply(make_app: MakeApp) -> None:
    async def handing_over(request: AgentRequest) -> AgentReply:
        return AgentReply(
            text="Let me find a colleague.",
            confidence=0.9,
            agent_id="concierge",
            metadata={"handoff": True},
        )

    from walker_channels.agents import CallableRunner

    app = make_app(agent=CallableRunner(handing_over), walker_webhook_processing="inline")
    app.inbound("I want to cancel everything")
    assert [m.text for m in app.whatsapp.sent] == ["Let me find a colleague."]
    conversation = conversation_of(app)
    assert (conversation["mode"], conversation["taken_by"]) == ("human", "agent")
    app.inbound("hello?")
    assert len(app.whatsapp.sent) == 1


def test_log_entries_and_drafts_name_the_conversation_handoff_acts_on(app: Harness) -> None:
    assert app.inbound("hello").status_code == 200
    assert app.inbound("I want a refund").status_code == 200  # held for review

    conversation = conversation_of(app, user="root")
    log = app.get(f"{ADMIN}/conversations/whatsapp").json()["items"]
    [draft] = app.get(f"{ADMIN}/hitl/review-queue").json()["items"]

    assert {entry["conversation_id"] for entry in log} == {conversation["id"]}
    assert draft["conversation_id"] == conversation["id"]
