"""Dead letters through both adapters: a message the agent could not answer is escalated,
listed for superusers (pseudonyms only, with the failure's reason), and retried on request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from web_harness import ADMIN, ECHO, NUMBER_A, PERSON, TENANT_A, Harness, MakeApp, new_sid

from walker_channels.exceptions import AgentError
from walker_channels.models import AgentReply, AgentRequest

DEAD_LETTERS = f"{ADMIN}/dead-letters"


class BrokenUntilFixed:
    """An agent that fails until ``fixed`` is set, then answers as the echo agent does."""

    def __init__(self) -> None:
        self.fixed = False

    async def run(self, request: AgentRequest) -> AgentReply:
        if not self.fixed:
            raise AgentError("the agent's backend is down")
        return await ECHO.run(request)


@pytest.fixture
def agent() -> BrokenUntilFixed:
    return BrokenUntilFixed()


@pytest.fixture
def failing(make_app: MakeApp, agent: BrokenUntilFixed) -> Harness:
    return make_app(agent=agent)


def retry(app: Harness, message_id: str, user: str | None = "root") -> dict[str, object]:
    response = app.post(f"{DEAD_LETTERS}/{message_id}/retry", user=user)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_dead_letters_need_a_superuser(failing: Harness) -> None:
    for user, status in ((None, 401), ("alice", 403)):
        assert failing.get(DEAD_LETTERS, user=user).status_code == status
        assert failing.post(f"{DEAD_LETTERS}/SMx/retry", user=user).status_code == status


def test_a_message_the_agent_failed_on_is_listed_with_its_reason_and_no_number(
    failing: Harness,
) -> None:
    sid = new_sid()
    assert failing.inbound("where is my parcel", sid=sid).status_code == 200

    response = failing.get(DEAD_LETTERS)

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert (item["message_id"], item["tenant_id"]) == (sid, TENANT_A)
    assert (item["channel"], item["reason"]) == ("whatsapp", "agent_error")
    assert item["participant"] == failing.services.config.pseudonym(PERSON)
    assert PERSON.removeprefix("+") not in response.text
    assert NUMBER_A.removeprefix("+") not in response.text
    assert "parcel" not in response.text
    assert failing.get(DEAD_LETTERS, tenant_id="tenant-b").json()["items"] == []


def test_a_retry_once_the_agent_works_sends_the_reply_and_clears_the_dead_letter(
    failing: Harness, agent: BrokenUntilFixed
) -> None:
    sid = new_sid()
    failing.inbound("where is my parcel", sid=sid)
    assert retry(failing, sid)["result"] == "failed"  # still broken: it stays listed
    assert len(failing.get(DEAD_LETTERS).json()["items"]) == 1
    agent.fixed = True

    outcome = retry(failing, sid)

    assert outcome["result"] == "sent"
    assert outcome["review"]["status"] == "approved"  # type: ignore[index]
    assert failing.whatsapp.sent[-1].text == "Echo: where is my parcel"
    assert failing.get(DEAD_LETTERS).json()["items"] == []
    assert failing.post(f"{DEAD_LETTERS}/{sid}/retry").status_code == 404


def test_a_retried_reply_under_the_threshold_is_not_sent(
    failing: Harness, agent: BrokenUntilFixed
) -> None:
    sid = new_sid()
    failing.inbound("I want a refund", sid=sid)
    sent_before = len(failing.whatsapp.sent)
    agent.fixed = True

    outcome = retry(failing, sid)

    assert (outcome["result"], outcome["reason"]) == ("needs_review", "low_confidence")
    assert len(failing.whatsapp.sent) == sent_before
    assert len(failing.get(DEAD_LETTERS).json()["items"]) == 1


def test_retrying_a_message_that_is_no_dead_letter_is_404(app: Harness) -> None:
    sid = new_sid()
    app.inbound("hello", sid=sid)  # answered at once

    assert app.post(f"{DEAD_LETTERS}/{sid}/retry").status_code == 404
    assert app.get(DEAD_LETTERS).json()["items"] == []


def test_a_message_whose_runs_died_max_attempts_times_is_listed_and_retried(
    make_app: MakeApp,
) -> None:
    app = make_app(walker_webhook_processing="queue")  # the web process only accepts
    sid = new_sid()
    assert app.inbound("where is my parcel", sid=sid).status_code == 200
    inbox, config = app.services.stores.inbox, app.services.config
    step = config.processing_lease + timedelta(seconds=1)
    for n in range(config.max_attempts, 0, -1):  # each run claims it, then its worker dies
        then = datetime.now(UTC) - n * step  # so the last lease has run out by now
        app.run(partial(inbox.claim, now=then, lease=config.processing_lease, item_id=sid))
    app.run(app.services.conversations.process_pending)

    [item] = app.get(DEAD_LETTERS).json()["items"]
    assert (item["message_id"], item["reason"]) == (sid, "agent_error")
    assert retry(app, sid)["result"] == "sent"
    assert app.whatsapp.sent[-1].text == "Echo: where is my parcel"
