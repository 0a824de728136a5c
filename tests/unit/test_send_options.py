"""WhatsApp and SMS sends carry Messages API options (validity, schedule, link shortening) and
content templates, posted as the official ``twilio`` package posts the same parameters, and
arriving so over HTTP at the Twilio-like loopback server through the real transport.

(The loopback tests live here, not in ``tests/integration/``: pytest imports test modules by
basename, and this file's name was the one given for both.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from walker_channels.exceptions import MessageRejected
from walker_channels.models import (
    Address,
    Channel,
    DeliveryStatus,
    EmailContent,
    Media,
    OutboundMessage,
    WhatsAppTemplate,
)
from walker_channels.models.messages import SendOptions
from walker_channels.testing.twilio_server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TwilioLikeServer,
    created,
)
from walker_channels.twilio import RetrySettings, TwilioConfig, TwilioTransport
from walker_channels.twilio.wire import message_form

SERVICE_SID = "MG" + "ab" * 16
TEMPLATE_SID = "HX" + "cd" * 16
PERSON = "+14155552671"
BUSINESS = "+14155550100"
SEND_AT = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def config(**changes: Any) -> TwilioConfig:
    fields: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": "token",
        "channel": Channel.SMS,
        "messaging_service_sid": SERVICE_SID,
        **changes,
    }
    return TwilioConfig(**fields)


def sms(**fields: Any) -> OutboundMessage:
    fields.setdefault("text", "Your table is ready")
    to = Address(channel=Channel.SMS, value=PERSON)
    return OutboundMessage(channel=Channel.SMS, to=to, **fields)


def grouped(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as name -> values, repeated names in order."""
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


class RecordingHttpClient(HttpClient):  # type: ignore[misc]  # twilio ships no types
    """Keeps the form the official package would POST, and answers like Twilio."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger(__name__), is_async=False)
        self.forms: list[Mapping[str, object]] = []

    def request(self, method: str, uri: str, **kwargs: Any) -> Response:
        self.forms.append(kwargs.get("data") or {})
        return Response(201, json.dumps({"sid": "SM" + "1" * 32, "status": "scheduled"}))


def official_form(**parameters: Any) -> dict[str, list[str]]:
    """``client.messages.create(**parameters)``'s form, values as strings."""
    http = RecordingHttpClient()
    Client(ACCOUNT_SID, "token", http_client=http).messages.create(**parameters)
    (data,) = http.forms
    return {
        name: [str(v) for v in (value if isinstance(value, list) else [value])]
        for name, value in data.items()
    }


def test_every_option_is_posted_as_the_official_package_posts_it() -> None:
    options = SendOptions(validity_period=600, send_at=SEND_AT, shorten_urls=True)
    media = (Media(url="https://example.com/a.png"), Media(url="https://example.com/b.png"))
    ours = message_form(sms(media=media, options=options), config())

    theirs = official_form(
        to=PERSON,
        messaging_service_sid=SERVICE_SID,
        body="Your table is ready",
        media_url=[item.url for item in media],
        validity_period=600,
        schedule_type="fixed",
        send_at=SEND_AT,
        shorten_urls=True,
    )
    assert grouped(ours) == theirs


def test_an_sms_can_carry_a_content_template_like_whatsapp() -> None:
    template = WhatsAppTemplate(content_sid=TEMPLATE_SID, variables={"1": "Ana", "2": "9:30"})
    ours = message_form(sms(text=None, template=template), config())

    theirs = official_form(
        to=PERSON,
        messaging_service_sid=SERVICE_SID,
        content_sid=TEMPLATE_SID,
        content_variables=json.dumps({"1": "Ana", "2": "9:30"}),
    )
    assert grouped(ours) == theirs


def test_send_at_is_written_in_utc_to_the_second() -> None:
    local = datetime(2026, 4, 1, 11, 30, 15, 999_000, tzinfo=timezone(timedelta(hours=2)))
    form = grouped(message_form(sms(options=SendOptions(send_at=local)), config()))
    assert form["SendAt"] == ["2026-04-01T09:30:15Z"]
    assert form["ScheduleType"] == ["fixed"]


@pytest.mark.parametrize(
    ("options", "fields"),
    [
        (SendOptions(), {}),
        (SendOptions(validity_period=1), {"ValidityPeriod": ["1"]}),
        (SendOptions(validity_period=36000), {"ValidityPeriod": ["36000"]}),
        (SendOptions(shorten_urls=False), {"ShortenUrls": ["false"]}),
    ],
    ids=["none", "shortest-validity", "longest-validity", "no-shortening"],
)
def test_options_need_no_messaging_service_unless_they_schedule_or_shorten(
    options: SendOptions, fields: dict[str, list[str]]
) -> None:
    without_service = config(messaging_service_sid=None, sender="+14155550100")
    form = grouped(message_form(sms(options=options), without_service))
    option_names = {"ValidityPeriod", "ScheduleType", "SendAt", "ShortenUrls"}
    assert {name: values for name, values in form.items() if name in option_names} == fields


@pytest.mark.parametrize(
    "options",
    [SendOptions(send_at=SEND_AT), SendOptions(shorten_urls=True)],
    ids=["schedule", "shorten"],
)
def test_scheduling_or_shortening_without_a_messaging_service_is_refused(
    options: SendOptions,
) -> None:
    # Without MessagingServiceSid Twilio would send the "scheduled" message at once.
    without_service = config(messaging_service_sid=None, sender="+14155550100")
    with pytest.raises(MessageRejected, match="messaging_service_sid"):
        message_form(sms(options=options), without_service)


@pytest.mark.parametrize(
    "fields",
    [
        {"validity_period": 0},
        {"validity_period": 36001},
        {"validity_period": True},
        {"validity_period": "60"},
        {"send_at": datetime(2026, 4, 1, 9, 30)},  # naive
        {"shorten_urls": "yes"},
        {"schedule_type": "fixed"},
    ],
    ids=[
        "validity-0",
        "validity-36001",
        "validity-bool",
        "validity-text",
        "naive",
        "bad-bool",
        "unknown",
    ],
)
def test_options_outside_what_twilio_accepts_are_invalid(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SendOptions(**fields)


def test_email_takes_no_send_options() -> None:
    with pytest.raises(ValidationError, match="not email"):
        OutboundMessage(
            channel=Channel.EMAIL,
            to=Address(channel=Channel.EMAIL, value="ann@example.org"),
            email=EmailContent(subject="Hi", text="Hello"),
            options=SendOptions(validity_period=60),
        )


def test_a_template_still_excludes_text_and_media() -> None:
    template = WhatsAppTemplate(content_sid=TEMPLATE_SID)
    with pytest.raises(ValidationError, match="cannot also carry text"):
        sms(template=template)


# --- through the transport, over HTTP to the loopback server -------------------------------


@pytest.fixture
async def server() -> AsyncIterator[TwilioLikeServer]:
    async with TwilioLikeServer() as running:
        yield running


def transport_for(server: TwilioLikeServer, channel: Channel, **changes: Any) -> TwilioTransport:
    settings: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "api_base_url": server.base_url,
        "channel": channel,
        "messaging_service_sid": SERVICE_SID,
        "read_timeout": 2.0,
        "retry": RetrySettings.without_waits(),
        **changes,
    }
    return TwilioTransport(TwilioConfig(**settings))


def message(channel: Channel, **fields: Any) -> OutboundMessage:
    to = Address(channel=channel, value=PERSON)
    return OutboundMessage(channel=channel, to=to, **fields)


@pytest.mark.anyio
async def test_a_scheduled_sms_template_arrives_with_every_option(
    server: TwilioLikeServer,
) -> None:
    server.script(created(status="scheduled"))
    template = WhatsAppTemplate(content_sid=TEMPLATE_SID, variables={"1": "Ana"})
    options = SendOptions(validity_period=900, send_at=SEND_AT, shorten_urls=True)
    async with transport_for(server, Channel.SMS) as transport:
        result = await transport.send(message(Channel.SMS, template=template, options=options))

    [request] = server.received
    assert request.form == (
        ("To", PERSON),
        ("MessagingServiceSid", SERVICE_SID),
        ("ContentSid", TEMPLATE_SID),
        ("ContentVariables", json.dumps({"1": "Ana"})),
        ("ValidityPeriod", "900"),
        ("ScheduleType", "fixed"),
        ("SendAt", "2026-04-01T09:30:00Z"),
        ("ShortenUrls", "true"),
    )
    assert result.status is DeliveryStatus.SCHEDULED


@pytest.mark.anyio
async def test_a_whatsapp_text_carries_its_validity_period(server: TwilioLikeServer) -> None:
    options = SendOptions(validity_period=60)
    async with transport_for(server, Channel.WHATSAPP, sender=BUSINESS) as transport:
        await transport.send(message(Channel.WHATSAPP, text="Hello", options=options))

    [request] = server.received
    assert request.field("ValidityPeriod") == "60"
    assert request.field("Body") == "Hello"
    assert request.field("SendAt") is None


@pytest.mark.anyio
async def test_a_schedule_without_a_messaging_service_never_reaches_twilio(
    server: TwilioLikeServer,
) -> None:
    options = SendOptions(send_at=SEND_AT)
    settings = {"messaging_service_sid": None, "sender": BUSINESS}
    async with transport_for(server, Channel.SMS, **settings) as transport:
        with pytest.raises(MessageRejected, match="Messaging Service"):
            await transport.send(message(Channel.SMS, text="Later", options=options))

    assert server.received == []
