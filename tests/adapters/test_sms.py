"""SMS end to end, through both adapters, with the real Twilio transport and a Twilio-like server.

The server (:class:`~walker_channels.testing.twilio_server.TwilioLikeServer`) runs on its own
loop in a thread and answers as ``api.twilio.com`` does; each test reads the requests it got.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from web_harness import (
    AUTH_TOKEN,
    BASE_URL,
    NUMBER_A,
    NUMBER_B,
    PERSON,
    SEND_SMS,
    SMS_STATUS,
    SMS_WEBHOOK,
    TENANT_A,
    TENANT_B,
    TWILIO_ACCOUNT_SID,
    Harness,
    MakeApp,
    inbound_form,
    new_sid,
)

from walker_channels.agents import echo_agent
from walker_channels.app import Settings, build_services
from walker_channels.models import Channel
from walker_channels.testing import InMemoryStores, RecordingTransport
from walker_channels.testing.twilio_server import Received, TwilioLikeServer
from walker_channels.web import HttpApi

LOG = "/api/v1/admin/conversations/whatsapp"
STATS = "/api/v1/admin/conversations/stats"
QUEUE = "/api/v1/admin/hitl/review-queue"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
WAIT_SECONDS = 5.0


def sms_form(text: str, *, sid: str, sender: str = PERSON, to: str = NUMBER_A) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS (its webhook docs' fields)."""
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": text,
        "FromCountry": "US",
        "To": to,
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": TWILIO_ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


@pytest.fixture
def twilio() -> Iterator[TwilioLikeServer]:
    """A Twilio-like Messages API on 127.0.0.1, on its own event loop in a thread."""
    server = TwilioLikeServer(account_sid=TWILIO_ACCOUNT_SID, auth_token=AUTH_TOKEN)
    with server.in_thread():
        yield server


@pytest.fixture
def app(make_app: MakeApp, twilio: TwilioLikeServer) -> Harness:
    """The app with real Twilio transports (WhatsApp and SMS from NUMBER_A) to ``twilio``."""
    return make_app(twilio_api=twilio.base_url, walker_public_url=BASE_URL)


def inbound_sms(app: Harness, text: str, *, sid: str | None = None, to: str = NUMBER_A) -> Any:
    """POST a signed inbound SMS to the SMS webhook."""
    return app.signed_post(SMS_WEBHOOK, sms_form(text, sid=sid or new_sid(), to=to))


def messages(twilio: TwilioLikeServer, count: int) -> list[Received]:
    """The first ``count`` message creates Twilio received (waited for, within bounds)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(twilio.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(twilio.received) >= count, f"Twilio got {len(twilio.received)} of {count}"
    return twilio.received[:count]


def assert_sent_as_sms(request: Received, *, sender: str = NUMBER_A) -> None:
    """``request`` sends an SMS to the person from ``sender``: no ``whatsapp:`` anywhere."""
    assert (request.field("To"), request.field("From")) == (PERSON, sender)
    assert not [value for _, value in request.form if "whatsapp:" in value.lower()]


def log_types(app: Harness, **params: str) -> list[str]:
    """The event types of the admin log, oldest first."""
    items = app.get(LOG, **params).json()["items"]
    return [item["type"] for item in reversed(items)]


def test_an_inbound_sms_is_answered_by_sms_from_the_number_it_was_sent_to(
    app: Harness, twilio: TwilioLikeServer
) -> None:
    response = inbound_sms(app, "hello by text")

    assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    [reply] = messages(twilio, 1)
    assert_sent_as_sms(reply)
    assert reply.field("Body") == "Echo: hello by text"
    callback = urlsplit(reply.field("StatusCallback") or "")
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == BASE_URL + SMS_STATUS
    assert log_types(app, channel="sms") == ["inbound", "outbound"]


def test_a_repeated_sms_delivery_is_answered_once(app: Harness, twilio: TwilioLikeServer) -> None:
    sid = new_sid()

    first, again = inbound_sms(app, "hi", sid=sid), inbound_sms(app, "hi", sid=sid)

    assert first.status_code == again.status_code == 200
    messages(twilio, 1)
    time.sleep(0.1)
    assert len(twilio.received) == 1


def test_an_unsigned_sms_is_refused_and_nothing_is_stored(
    app: Harness, twilio: TwilioLikeServer
) -> None:
    response = app.unsigned_post(SMS_WEBHOOK, sms_form("hello", sid=new_sid()))

    assert response.status_code == 403
    assert log_types(app, channel="sms") == []
    assert twilio.received == []


def test_an_unsure_sms_waits_for_review_and_the_approved_reply_goes_out_as_sms(
    app: Harness, twilio: TwilioLikeServer
) -> None:
    inbound_sms(app, "I want a refund")
    [holding] = messages(twilio, 1)
    [item] = app.get(QUEUE).json()["items"]

    approved = app.post(f"/api/v1/admin/hitl/{item['approval_id']}/approve")

    assert approved.json()["status"] == "approved"
    _, reply = messages(twilio, 2)
    assert_sent_as_sms(holding)
    assert_sent_as_sms(reply)
    assert reply.field("Body") == "Echo: I want a refund"
    assert item["channel"] == "sms"
    assert log_types(app, channel="sms") == [
        "inbound",
        "escalated",
        "outbound",
        "approved",
        "outbound",
    ]


def test_the_sms_status_callback_advances_the_delivery(
    app: Harness, twilio: TwilioLikeServer
) -> None:
    inbound_sms(app, "hello")
    [reply] = messages(twilio, 1)
    callback = urlsplit(reply.field("StatusCallback") or "")
    path = f"{callback.path}?{callback.query}"
    status = {
        "MessageSid": twilio.simulator.messages[0].sid,
        "SmsSid": twilio.simulator.messages[0].sid,
        "MessageStatus": "delivered",
        "SmsStatus": "delivered",
        "AccountSid": TWILIO_ACCOUNT_SID,
        "From": NUMBER_A,
        "To": PERSON,
        "ApiVersion": "2010-04-01",
    }

    unsigned = app.unsigned_post(path, status)
    answer = app.signed_post(path, status, url=BASE_URL + path)

    assert unsigned.status_code == 403
    assert (answer.status_code, answer.text) == (200, EMPTY_TWIML)
    assert log_types(app, channel="sms") == ["inbound", "outbound", "delivery_status"]


def test_a_member_sends_an_sms_without_a_24_hour_window(
    app: Harness, twilio: TwilioLikeServer
) -> None:
    body = {"tenant_id": TENANT_A, "to": PERSON, "text": "Your order shipped"}

    first = app.post(SEND_SMS, {**body, "idempotency_key": "order-1"}, user="alice")
    again = app.post(SEND_SMS, {**body, "idempotency_key": "order-1"}, user="alice")

    assert (first.status_code, first.json()["state"], again.json()["duplicate"]) == (
        200,
        "sent",
        True,
    )
    [sent] = messages(twilio, 1)
    assert_sent_as_sms(sent)
    assert sent.field("Body") == "Your order shipped"
    assert PERSON not in first.text


@pytest.mark.parametrize(
    "number", ["whatsapp:+14155552671", "12345", "+1 555 0100 999 999", "+999123", "sms"]
)
def test_an_sms_to_an_invalid_number_is_422_without_echoing_it(
    app: Harness, twilio: TwilioLikeServer, number: str
) -> None:
    body = {"tenant_id": TENANT_A, "to": number, "text": "hello"}

    response = app.post(SEND_SMS, body, user="alice")

    assert response.status_code == 422
    assert number not in response.text
    assert twilio.received == []


def test_a_member_of_another_tenant_cannot_send_an_sms_for_this_one(
    app: Harness, twilio: TwilioLikeServer
) -> None:
    body = {"tenant_id": TENANT_A, "to": PERSON, "text": "hello"}

    assert app.post(SEND_SMS, body, user="bob").status_code == 403
    assert app.post(SEND_SMS, body, user=None).status_code == 401
    assert twilio.received == []


def test_the_admin_log_filters_by_channel(app: Harness, twilio: TwilioLikeServer) -> None:
    inbound_sms(app, "by text")
    app.signed_post("/api/v1/channels/whatsapp/webhook", inbound_form("by chat", sid=new_sid()))
    messages(twilio, 2)

    sms = app.get(LOG, channel="sms").json()["items"]
    whatsapp = app.get(LOG).json()["items"]

    assert {entry["channel"] for entry in sms} == {"sms"}
    assert {entry["channel"] for entry in whatsapp} == {"whatsapp"}
    assert [e["preview"] for e in sms if e["type"] == "inbound"] == ["by text"]
    assert app.get(LOG, channel="email").json()["items"] == []
    assert app.get(LOG, channel="Pager!").status_code == 422


def test_messages_to_numbers_no_tenant_owns_are_counted_for_superusers(
    app: Harness, twilio: TwilioLikeServer
) -> None:
    # Tenant B owns NUMBER_B on WhatsApp only: an SMS to it reaches no tenant.
    assert inbound_sms(app, "anyone there?", to=NUMBER_B).status_code == 200
    assert inbound_sms(app, "hello?", to="+14155550199").status_code == 200
    app.signed_post(
        "/api/v1/channels/whatsapp/webhook", inbound_form("b", sid=new_sid(), to=NUMBER_B)
    )
    messages(twilio, 1)  # only tenant B's WhatsApp message is answered

    everything = app.get(STATS).json()
    for_b = app.get(STATS, tenant_id=TENANT_B).json()

    assert (everything["inbound_total"], everything["unknown_recipient_messages"]) == (3, 2)
    assert (for_b["inbound_total"], for_b["unknown_recipient_messages"]) == (1, None)
    assert app.get(STATS, user="alice").status_code == 403
    assert [r.field("To") for r in twilio.received] == [f"whatsapp:{PERSON}"]


def test_sms_endpoints_are_served_only_with_an_sms_transport() -> None:
    def paths(**transports: Any) -> set[str]:
        services = build_services(
            Settings(walker_pseudonym_key="k", walker_sweep_interval=0),
            stores=InMemoryStores(),
            agent=echo_agent(),
            whatsapp_transport=RecordingTransport(Channel.WHATSAPP),
            **transports,
        )
        return {endpoint.path for endpoint in HttpApi.from_services(services).endpoints}

    sms_paths = {SMS_WEBHOOK, SMS_STATUS, SEND_SMS}
    assert not sms_paths & paths()
    assert sms_paths <= paths(sms_transport=RecordingTransport(Channel.SMS))
