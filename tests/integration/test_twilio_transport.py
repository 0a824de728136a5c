"""TwilioTransport against a Twilio-like HTTP server on 127.0.0.1 (real sockets, no patching).

Waits between attempts go through a recording sleep, so the configured backoff is asserted
exactly without the tests waiting for it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from walker_channels.exceptions import (
    ConfigurationError,
    DeliveryUnknown,
    MessageRejected,
    ProviderError,
    TransportError,
)
from walker_channels.models import (
    Address,
    Channel,
    DeliveryStatus,
    Media,
    OutboundMessage,
    WhatsAppTemplate,
)
from walker_channels.testing.twilio_server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Answer,
    TwilioLikeServer,
    created,
    dropped,
    twilio_error,
)
from walker_channels.twilio import RetrySettings, TwilioConfig, TwilioTransport

pytestmark = pytest.mark.anyio

PERSON = "+14155552671"
BUSINESS = "+14155550100"
SERVICE_SID = "MG" + "ab" * 16
TEMPLATE_SID = "HX" + "cd" * 16
API_KEY_SID = "SK" + "ef" * 16

MakeTransport = Callable[..., TwilioTransport]


def whatsapp(text: str | None = "Hello", **fields: Any) -> OutboundMessage:
    to = Address(channel=Channel.WHATSAPP, value=PERSON)
    return OutboundMessage(channel=Channel.WHATSAPP, to=to, text=text, **fields)


def sms(text: str | None = "Hello", **fields: Any) -> OutboundMessage:
    to = Address(channel=Channel.SMS, value=PERSON)
    return OutboundMessage(channel=Channel.SMS, to=to, text=text, **fields)


@pytest.fixture
async def server() -> AsyncIterator[TwilioLikeServer]:
    async with TwilioLikeServer() as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
async def make_transport(
    server: TwilioLikeServer, waits: list[float], twilio_http_client: str
) -> AsyncIterator[MakeTransport]:
    """Transports on the loopback server whose waits are recorded instead of slept, over each
    HTTP client."""
    built: list[TwilioTransport] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    def make(**overrides: Any) -> TwilioTransport:
        settings: dict[str, Any] = {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "api_base_url": server.base_url,
            "sender": BUSINESS,
            "read_timeout": 2.0,
            "http_client": twilio_http_client,
            **overrides,
        }
        transport = TwilioTransport(TwilioConfig(**settings), sleep=record)
        built.append(transport)
        return transport

    yield make
    for transport in built:
        await transport.aclose()


async def test_a_whatsapp_text_is_posted_as_twilio_form_with_basic_auth(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    result = await make_transport().send(whatsapp("Hello there"))

    [request] = server.received
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.basic_auth() == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == (
        ("To", f"whatsapp:{PERSON}"),
        ("From", f"whatsapp:{BUSINESS}"),
        ("Body", "Hello there"),
    )
    assert result.channel is Channel.WHATSAPP
    assert result.provider_message_id is not None
    assert result.provider_message_id.startswith("SM")
    assert result.status is DeliveryStatus.QUEUED


async def test_the_send_result_keeps_the_message_resource_without_number_or_text(
    make_transport: MakeTransport,
) -> None:
    result = await make_transport().send(whatsapp("private words"))

    assert result.raw["sid"] == result.provider_message_id
    assert result.raw["status"] == "queued"
    assert {"to", "from", "body"}.isdisjoint(result.raw)


async def test_the_answered_status_is_mapped(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    server.script(created(status="accepted"))

    result = await make_transport().send(whatsapp())

    assert result.status is DeliveryStatus.ACCEPTED


async def test_sms_addresses_have_no_prefix_and_media_urls_repeat(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    urls = [f"https://cdn.example/{n}.jpg" for n in range(3)]
    message = sms(None, media=tuple(Media(url=url) for url in urls))

    await make_transport(channel=Channel.SMS).send(message)

    [request] = server.received
    assert request.field("To") == PERSON
    assert request.field("From") == BUSINESS
    assert request.fields("MediaUrl") == urls
    assert request.field("Body") is None


async def test_a_template_sends_content_sid_and_json_variables_and_no_body(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    template = WhatsAppTemplate(content_sid=TEMPLATE_SID, variables={"1": "Ada", "2": "9:30"})

    await make_transport().send(whatsapp(None, template=template))

    [request] = server.received
    assert request.field("ContentSid") == TEMPLATE_SID
    assert request.field("ContentVariables") == '{"1": "Ada", "2": "9:30"}'
    assert request.field("Body") is None
    assert request.fields("MediaUrl") == []


async def test_the_status_callback_carries_the_ledger_key(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    transport = make_transport(status_callback="https://hooks.example/status?tenant=t1")

    await transport.send(whatsapp(idempotency_key="reply:SM1"))

    [request] = server.received
    assert request.field("StatusCallback") == (
        "https://hooks.example/status?tenant=t1&ledger_key=reply%3ASM1"
    )


async def test_the_message_status_callback_wins_over_the_configured_one(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    transport = make_transport(status_callback="https://hooks.example/status")

    await transport.send(whatsapp(status_callback="https://other.example/cb"))

    assert server.received[0].field("StatusCallback") == "https://other.example/cb"


async def test_a_messaging_service_sends_without_from(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    await make_transport(sender=None, messaging_service_sid=SERVICE_SID).send(whatsapp())

    [request] = server.received
    assert request.field("MessagingServiceSid") == SERVICE_SID
    assert request.field("From") is None


async def test_the_message_sender_wins_over_the_configured_one(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    own = Address(channel=Channel.WHATSAPP, value="+14155550199")

    await make_transport().send(whatsapp(sender=own))

    assert server.received[0].field("From") == "whatsapp:+14155550199"


async def test_an_api_key_authenticates_as_the_key(twilio_http_client: str) -> None:
    async with TwilioLikeServer(auth_user=API_KEY_SID, auth_token="key-secret") as server:
        config = TwilioConfig(
            account_sid=ACCOUNT_SID,
            api_key_sid=API_KEY_SID,
            auth_token="key-secret",
            api_base_url=server.base_url,
            sender=BUSINESS,
            http_client=twilio_http_client,
        )
        async with TwilioTransport(config) as transport:
            await transport.send(whatsapp())

    assert server.received[0].basic_auth() == (API_KEY_SID, "key-secret")


async def test_a_shared_client_is_used_and_left_open(server: TwilioLikeServer) -> None:
    config = TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_base_url=server.base_url,
        sender=BUSINESS,
    )
    async with httpx.AsyncClient() as client:
        async with TwilioTransport(config, client=client) as transport:
            await transport.send(whatsapp())

        assert not client.is_closed
    assert server.received[0].basic_auth() == (ACCOUNT_SID, AUTH_TOKEN)


def _long_text() -> OutboundMessage:
    return whatsapp("x" * 1601)


def _emoji_text() -> OutboundMessage:
    return whatsapp("😀" * 801)  # 801 emoji are 1602 UTF-16 units, as SMS counts them


def _two_whatsapp_media() -> OutboundMessage:
    return whatsapp(
        None, media=(Media(url="https://a.example/1"), Media(url="https://a.example/2"))
    )


def _eleven_sms_media() -> OutboundMessage:
    return sms(None, media=tuple(Media(url=f"https://a.example/{n}") for n in range(11)))


def _relative_media() -> OutboundMessage:
    return whatsapp(None, media=(Media(url="/uploads/1.jpg"),))


def _empty_text() -> OutboundMessage:
    return whatsapp("")


def _template_with_text() -> OutboundMessage:
    # Built without validation: the transport must not rely on the model's own check.
    valid = whatsapp(None, template=WhatsAppTemplate(content_sid=TEMPLATE_SID))
    return OutboundMessage.model_construct(**{**dict(valid), "text": "and some text"})


def _long_template_variable() -> OutboundMessage:
    template = WhatsAppTemplate(content_sid=TEMPLATE_SID, variables={"1": "y" * 1601})
    return whatsapp(None, template=template)


def _sms_message() -> OutboundMessage:
    return sms()


@pytest.mark.parametrize(
    ("build", "fix"),
    [
        (_long_text, "at most 1600"),
        (_emoji_text, "at most 1600"),
        (_two_whatsapp_media, "at most 1 per message"),
        (_eleven_sms_media, "at most 10 per message"),
        (_relative_media, "absolute http(s) URLs"),
        (_empty_text, "the message is empty"),
        (_template_with_text, "cannot also carry text"),
        (_long_template_variable, "template variable"),
        (_sms_message, "pick the transport of the message's channel"),
    ],
)
async def test_what_twilio_would_refuse_is_refused_before_sending(
    make_transport: MakeTransport,
    server: TwilioLikeServer,
    build: Callable[[], OutboundMessage],
    fix: str,
) -> None:
    overrides = {"channel": Channel.SMS} if build is _eleven_sms_media else {}
    transport = make_transport(**overrides)

    with pytest.raises(MessageRejected, match=re.escape(fix)) as err:
        await transport.send(build())

    assert server.received == []
    assert PERSON not in str(err.value)


async def test_a_transport_without_any_sender_is_a_configuration_error(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    with pytest.raises(ConfigurationError, match="no sender"):
        await make_transport(sender=None).send(whatsapp())

    assert server.received == []


@pytest.mark.parametrize(
    ("http_status", "code", "retryable", "fix"),
    [
        (400, 21211, False, "not a valid phone number"),
        (400, 21610, False, "opted out"),
        (400, 21408, False, "Geo Permissions"),
        (400, 63016, False, "approved template"),
        (400, 21611, True, "retry later"),
        (400, 99999, False, "docs/errors/99999"),
        (401, 20003, False, "auth token"),
    ],
)
async def test_a_twilio_4xx_is_not_retried_and_becomes_a_typed_error(
    make_transport: MakeTransport,
    server: TwilioLikeServer,
    waits: list[float],
    http_status: int,
    code: int,
    retryable: bool,
    fix: str,
) -> None:
    server.script(twilio_error(http_status, code))

    with pytest.raises(ProviderError, match=fix) as err:
        await make_transport().send(whatsapp())

    assert (err.value.code, err.value.retryable) == (str(code), retryable)
    assert len(server.received) == 1
    assert waits == []
    assert PERSON not in str(err.value)  # Twilio's own message repeats the number


async def test_wrong_credentials_get_twilios_authentication_error(
    make_transport: MakeTransport,
) -> None:
    with pytest.raises(ProviderError, match="authentication failed") as err:
        await make_transport(auth_token="not-the-token").send(whatsapp())

    assert err.value.code == "20003"
    assert not err.value.retryable


async def test_5xx_answers_are_retried_with_exponential_backoff(
    make_transport: MakeTransport, server: TwilioLikeServer, waits: list[float]
) -> None:
    server.script(twilio_error(500, 20500), twilio_error(503, 20503))

    result = await make_transport().send(whatsapp())

    assert result.provider_message_id
    assert len(server.received) == 3
    assert waits == [1.0, 2.0]


async def test_the_backoff_doubles_up_to_its_cap_for_every_configured_attempt(
    make_transport: MakeTransport, server: TwilioLikeServer, waits: list[float]
) -> None:
    server.script(*[twilio_error(500, 20500)] * 5)
    transport = make_transport(retry=RetrySettings(attempts=5, max_backoff=4.0))

    with pytest.raises(ProviderError) as err:
        await transport.send(whatsapp())

    assert len(server.received) == 5
    assert waits == [1.0, 2.0, 4.0, 4.0]
    assert err.value.retryable
    assert err.value.code == "20500"


async def test_retries_stop_after_the_attempts_and_raise_the_last_error(
    make_transport: MakeTransport, server: TwilioLikeServer, waits: list[float]
) -> None:
    server.script(twilio_error(500, 20500), twilio_error(500, 20500), twilio_error(429, 20429))

    with pytest.raises(ProviderError, match="too many concurrent requests") as err:
        await make_transport().send(whatsapp())

    assert err.value.code == "20429"
    assert err.value.retryable
    assert len(server.received) == 3
    assert waits == [1.0, 2.0]


@pytest.mark.parametrize(
    ("retry_after", "expected_wait"),
    [("7", 7.0), (None, 1.0), ("3600", 30.0), ("soon", 1.0)],
)
async def test_a_429_waits_as_retry_after_says_capped_or_backs_off(
    make_transport: MakeTransport,
    server: TwilioLikeServer,
    waits: list[float],
    retry_after: str | None,
    expected_wait: float,
) -> None:
    server.script(twilio_error(429, 20429, retry_after=retry_after))

    await make_transport().send(whatsapp())

    assert waits == [expected_wait]
    assert len(server.received) == 2


async def test_waits_can_be_switched_off(
    make_transport: MakeTransport, server: TwilioLikeServer, waits: list[float]
) -> None:
    server.script(twilio_error(500, 20500), twilio_error(429, 20429, retry_after="9"))

    await make_transport(retry=RetrySettings.without_waits()).send(whatsapp())

    assert waits == [0.0, 0.0]


async def test_a_failure_after_the_total_retry_time_is_not_retried(
    make_transport: MakeTransport, server: TwilioLikeServer, waits: list[float]
) -> None:
    slow_error = twilio_error(500, 20500)
    server.script(Answer(status=500, body=slow_error.body, delay=0.05))
    transport = make_transport(retry=RetrySettings(attempts=3, max_total_seconds=0.01))

    with pytest.raises(ProviderError):
        await transport.send(whatsapp())

    assert len(server.received) == 1
    assert waits == []


async def test_a_dropped_connection_after_the_request_is_an_unknown_outcome_not_resent(
    make_transport: MakeTransport, server: TwilioLikeServer, waits: list[float]
) -> None:
    server.script(dropped())

    with pytest.raises(DeliveryUnknown, match="wait for its status callback") as err:
        await make_transport().send(whatsapp())

    assert not err.value.retryable
    assert len(server.received) == 1
    assert waits == []


async def test_a_read_timeout_is_an_unknown_outcome_not_resent(
    make_transport: MakeTransport, server: TwilioLikeServer, waits: list[float]
) -> None:
    server.script(Answer(delay=1.0))

    with pytest.raises(DeliveryUnknown):
        await make_transport(read_timeout=0.2).send(whatsapp())

    assert len(server.received) == 1
    assert waits == []


async def test_a_slow_answer_within_the_timeout_is_a_success(
    make_transport: MakeTransport, server: TwilioLikeServer
) -> None:
    server.script(created(delay=0.2))

    result = await make_transport(read_timeout=2.0).send(whatsapp())

    assert result.provider_message_id


async def test_an_unreachable_server_is_retried_then_a_retryable_transport_error(
    make_transport: MakeTransport, waits: list[float]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(TransportError, match="could not reach Twilio") as err:
        await make_transport(api_base_url=f"http://127.0.0.1:{port}").send(whatsapp())

    assert type(err.value) is TransportError
    assert err.value.retryable
    assert waits == [1.0, 2.0]


async def test_no_more_than_max_in_flight_requests_reach_the_server_at_once(
    twilio_http_client: str,
) -> None:
    async with TwilioLikeServer(latency=0.05) as server:
        config = TwilioConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            api_base_url=server.base_url,
            sender=BUSINESS,
            max_in_flight=4,
            http_client=twilio_http_client,
        )
        async with TwilioTransport(config) as transport:
            results = await asyncio.gather(*(transport.send(whatsapp()) for _ in range(20)))

    assert server.max_in_flight == 4
    assert len({result.provider_message_id for result in results}) == 20


async def test_many_concurrent_sends_share_the_pooled_connections(
    twilio_http_client: str,
) -> None:
    async with TwilioLikeServer(latency=0.02) as server:
        config = TwilioConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            api_base_url=server.base_url,
            sender=BUSINESS,
            max_in_flight=8,
            http_client=twilio_http_client,
        )
        async with TwilioTransport(config) as transport:
            for _ in range(3):
                await asyncio.gather(*(transport.send(whatsapp()) for _ in range(8)))

    assert len(server.received) == 24
    assert server.connections <= 8


async def test_a_sender_is_held_to_its_rate(server: TwilioLikeServer) -> None:
    transport = TwilioTransport(
        TwilioConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            api_base_url=server.base_url,
            sender=BUSINESS,
            rate_per_sender=20,
        )
    )
    async with transport:
        started = time.monotonic()
        await asyncio.gather(*(transport.send(whatsapp()) for _ in range(5)))

    # Request k may not start before k/20 s (slots are 1/20 s apart); a late one may catch up.
    arrivals = sorted(request.arrived_at - started for request in server.received)
    assert all(at >= k * 0.05 - 0.002 for k, at in enumerate(arrivals))
    assert len(arrivals) == 5
