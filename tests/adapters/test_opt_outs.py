"""Opt-out and consent through both adapters: STOP, a refused proactive send (409), START,
the admin's list and lift, a tenant's own keywords and window fallback, and Twilio's 21610."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from web_harness import (
    AUTH_TOKEN,
    BASE_URL,
    NUMBER_A,
    PERSON,
    SEND_SMS,
    SEND_WHATSAPP,
    SMS_WEBHOOK,
    TENANT_A,
    TWILIO_ACCOUNT_SID,
    Harness,
    MakeApp,
    as_user,
    new_sid,
)

from walker_channels.models import Channel
from walker_channels.testing import RecordingTransport
from walker_channels.testing.twilio_server import TwilioLikeServer, twilio_error

STATS = "/api/v1/admin/conversations/stats"
LOG = "/api/v1/admin/conversations/whatsapp"
OPT_OUTS = f"/api/v1/admin/tenants/{TENANT_A}/opt-outs"
SETTINGS = f"/api/v1/admin/tenants/{TENANT_A}/settings"
SENDS = {"whatsapp": SEND_WHATSAPP, "sms": SEND_SMS}


def write(app: Harness, channel: str, text: str) -> None:
    """The person writes ``text`` to tenant A on ``channel`` (a signed Twilio webhook)."""
    if channel == "whatsapp":
        response = app.inbound(text)
    else:
        form = {"MessageSid": new_sid(), "From": PERSON, "To": NUMBER_A, "Body": text}
        form |= {"AccountSid": TWILIO_ACCOUNT_SID, "NumMedia": "0"}
        response = app.signed_post(SMS_WEBHOOK, form)
    assert response.status_code == 200


def send(app: Harness, channel: str, key: str) -> Any:
    """Alice (a member of tenant A) sends a proactive text to the person."""
    body = {"tenant_id": TENANT_A, "to": PERSON, "text": "News!", "idempotency_key": key}
    return app.post(SENDS[channel], body, user="alice")


def sent_texts(app: Harness, channel: str) -> list[str | None]:
    transport = app.services.transports[Channel(channel)]
    assert isinstance(transport, RecordingTransport)
    return [message.text for message in transport.sent]


def log_types(app: Harness, channel: str) -> list[str]:
    items = app.get(LOG, channel=channel).json()["items"]
    return [item["type"] for item in reversed(items)]


@pytest.mark.parametrize("channel", ["whatsapp", "sms"])
def test_stop_refuses_a_proactive_send_with_409_and_start_allows_it_again(
    app: Harness, channel: str
) -> None:
    write(app, channel, "hello")
    write(app, channel, "STOP")
    refused = send(app, channel, "news-1")

    write(app, channel, "start")
    allowed = send(app, channel, "news-2")

    assert refused.status_code == 409
    assert "opted out" in refused.json()["detail"]
    assert (allowed.status_code, allowed.json()["state"]) == (200, "sent")
    assert sent_texts(app, channel) == ["Echo: hello", "News!"]  # no reply to STOP or START
    assert log_types(app, channel) == [
        "inbound",
        "outbound",
        "inbound",
        "opted_out",
        "inbound",
        "opted_in",
        "outbound",
    ]
    stats = app.get(STATS, channel=channel).json()
    assert (stats["opt_outs"], stats["opt_ins"]) == (1, 1)


def test_the_admin_lists_opt_outs_by_pseudonym_and_lifts_one(app: Harness) -> None:
    write(app, "sms", "Unsubscribe")

    listed = app.get(OPT_OUTS)
    as_member = app.get(OPT_OUTS, user="alice")
    lift = {"channel": "sms", "address": PERSON}
    lifted = app.post(f"{OPT_OUTS}/lift", lift)
    again = app.post(f"{OPT_OUTS}/lift", lift)

    [item] = listed.json()["items"]
    assert (item["channel"], item["source"]) == ("sms", "keyword")
    assert PERSON not in listed.text
    assert PERSON.lstrip("+") not in listed.text
    assert as_member.status_code == 403
    assert (lifted.status_code, lifted.json()["participant"]) == (200, item["participant"])
    assert again.status_code == 404
    assert app.get(OPT_OUTS).json()["items"] == []
    assert send(app, "sms", "news-1").status_code == 200


def test_a_lift_names_one_person_and_a_bad_body_is_a_4xx(app: Harness) -> None:
    neither = app.post(f"{OPT_OUTS}/lift", {"channel": "sms"})
    not_a_number = app.post(f"{OPT_OUTS}/lift", {"channel": "sms", "address": "bob"})
    bad_channel = app.get(OPT_OUTS, channel="Not A Channel")

    assert neither.status_code == 422
    assert not_a_number.status_code == 422
    assert bad_channel.status_code in (400, 422)


def test_a_tenants_own_keywords_and_fallback_are_set_read_and_used(app: Harness) -> None:
    settings = {
        "keywords": {"es": {"stop": ["Baja"], "start": ["ALTA"]}},
        "fallback_template": {"content_sid": "HX" + "d" * 32, "variables": {"1": "{text}"}},
    }
    saved = app.client.put(SETTINGS, json=settings, headers=as_user("root"))
    bad_language = app.client.put(
        SETTINGS, json={"keywords": {"Spanish!": {}}}, headers=as_user("root")
    )
    bad_placeholder = app.client.put(
        SETTINGS,
        json={"fallback_template": {"content_sid": "HX" + "d" * 32, "variables": {"1": "{x}"}}},
        headers=as_user("root"),
    )
    write(app, "whatsapp", "baja")

    assert saved.status_code == 200
    assert app.get(SETTINGS).json() == saved.json()
    assert saved.json()["keywords"]["es"] == {"stop": ["baja"], "start": ["alta"]}
    assert (bad_language.status_code, bad_placeholder.status_code) == (422, 422)
    assert send(app, "whatsapp", "news-1").status_code == 409


@pytest.fixture
def twilio() -> Iterator[TwilioLikeServer]:
    """A Twilio-like Messages API on 127.0.0.1, on its own event loop in a thread."""
    server = TwilioLikeServer(account_sid=TWILIO_ACCOUNT_SID, auth_token=AUTH_TOKEN)
    with server.in_thread():
        yield server


def test_twilio_21610_on_a_send_marks_the_person_and_the_next_send_is_refused(
    make_app: MakeApp, twilio: TwilioLikeServer
) -> None:
    app = make_app(twilio_api=twilio.base_url, walker_public_url=BASE_URL)
    write(app, "sms", "hello")
    deadline = time.monotonic() + 5
    while not twilio.received and time.monotonic() < deadline:
        time.sleep(0.02)  # the reply to "hello" reaches the server
    twilio.script(twilio_error(400, 21610, message="Attempt to send to unsubscribed recipient"))

    first = send(app, "sms", "news-1")
    second = send(app, "sms", "news-2")

    assert (first.status_code, first.json()["state"], first.json()["error_code"]) == (
        200,
        "failed",
        "21610",
    )
    assert second.status_code == 409
    [item] = app.get(OPT_OUTS).json()["items"]
    assert item["source"] == "send_error"
    assert len(twilio.received) == 2  # the reply and the refused send; nothing after
