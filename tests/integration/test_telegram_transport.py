"""TelegramTransport and set_webhook against a Telegram-like Bot API on 127.0.0.1.

Real sockets, no patching. Waits between attempts go through a recording sleep where the
test is about which wait was chosen; the one test about Telegram's flood wait sleeps for real
and reads the gap from the server's arrival times.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from walker_channels.exceptions import (
    ConfigurationError,
    DeliveryUnknown,
    InvalidInput,
    MessageRejected,
    ProviderError,
    TransportError,
)
from walker_channels.models import Address, DeliveryStatus, Media, OutboundMessage
from walker_channels.telegram import (
    TELEGRAM,
    TelegramConfig,
    TelegramRetry,
    TelegramTransport,
    set_webhook,
)
from walker_channels.testing.telegram_server import (
    BOT_TOKEN,
    Answer,
    TelegramLikeServer,
    dropped,
    flood_wait,
    telegram_error,
)

pytestmark = pytest.mark.anyio

CHAT = "1111111"
SECRET = "webhook-secret-for-tests_0123"
MakeTransport = Callable[..., TelegramTransport]


def text(body: str = "Hello", chat: str = CHAT, **fields: Any) -> OutboundMessage:
    to = Address(channel=TELEGRAM, value=chat)
    return OutboundMessage(channel=TELEGRAM, to=to, text=body, **fields)


@pytest.fixture
async def server() -> AsyncIterator[TelegramLikeServer]:
    async with TelegramLikeServer() as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    return []


def config(base_url: str, **overrides: Any) -> TelegramConfig:
    settings: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "api_base_url": base_url,
        "webhook_secret": SECRET,
        "read_timeout": 2.0,
        **overrides,
    }
    return TelegramConfig(**settings)


@pytest.fixture
async def make_transport(
    server: TelegramLikeServer, waits: list[float]
) -> AsyncIterator[MakeTransport]:
    """Transports on the loopback server whose waits are recorded instead of slept."""
    built: list[TelegramTransport] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    def make(*, real_sleep: bool = False, **overrides: Any) -> TelegramTransport:
        transport = TelegramTransport(
            config(server.base_url, **overrides), sleep=None if real_sleep else record
        )
        built.append(transport)
        return transport

    yield make
    for transport in built:
        await transport.aclose()


async def test_a_text_is_sent_with_send_message_as_json_to_the_bots_method(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    result = await make_transport().send(text("Hello there"))

    [call] = server.calls
    assert (call.method, call.token) == ("sendMessage", BOT_TOKEN)
    assert call.headers["content-type"] == "application/json"
    assert call.payload == {"chat_id": CHAT, "text": "Hello there"}
    assert (result.channel, result.status) == (TELEGRAM, DeliveryStatus.SENT)
    assert result.provider_message_id == "1"


async def test_a_photo_and_a_document_are_sent_by_url_with_their_captions(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    transport = make_transport()
    photo = Media(url="https://example.com/shop.jpg", content_type="image/jpeg")
    document = Media(url="https://example.com/invoice.pdf", content_type="application/pdf")

    await transport.send(text("our shop", media=(photo,)))
    await transport.send(text("your invoice", media=(document,)))

    sent = [(call.method, dict(call.payload)) for call in server.sent]
    assert sent == [
        ("sendPhoto", {"chat_id": CHAT, "photo": photo.url, "caption": "our shop"}),
        ("sendDocument", {"chat_id": CHAT, "document": document.url, "caption": "your invoice"}),
    ]


async def test_a_flood_wait_is_retried_only_after_telegrams_retry_after(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    server.script(flood_wait(1))

    result = await make_transport(real_sleep=True).send(text())

    first, retry = server.calls
    assert retry.arrived_at - first.arrived_at >= 1.0
    assert result.provider_message_id == "1"
    assert len(server.sent) == 1


async def test_a_flood_wait_longer_than_the_cap_fails_as_retryable_without_waiting(
    make_transport: MakeTransport, server: TelegramLikeServer, waits: list[float]
) -> None:
    server.script(flood_wait(120))

    with pytest.raises(ProviderError) as raised:
        await make_transport().send(text())

    assert (raised.value.code, raised.value.retryable) == ("too_many_requests", True)
    assert waits == []
    assert len(server.calls) == 1


async def test_server_errors_are_retried_with_backoff_within_the_attempts(
    make_transport: MakeTransport, server: TelegramLikeServer, waits: list[float]
) -> None:
    server.script(telegram_error(502, "Bad Gateway"), telegram_error(502, "Bad Gateway"))

    await make_transport(retry=TelegramRetry(attempts=3, initial_backoff=1, max_backoff=4)).send(
        text()
    )

    assert waits == [1.0, 2.0]
    assert [call.method for call in server.calls] == ["sendMessage"] * 3


async def test_a_person_who_blocked_the_bot_is_refused_with_a_clear_code_and_no_retry(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    server.blocked.add(CHAT)

    with pytest.raises(ProviderError) as raised:
        await make_transport().send(text())

    assert (raised.value.code, raised.value.retryable) == ("bot_blocked", False)
    assert "blocked the bot" in str(raised.value)
    assert len(server.calls) == 1


async def test_a_bad_request_is_refused_without_a_retry(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    server.script(telegram_error(400, "Bad Request: chat not found"))

    with pytest.raises(ProviderError) as raised:
        await make_transport().send(text())

    assert (raised.value.code, raised.value.retryable) == ("chat_not_found", False)
    assert len(server.calls) == 1


async def test_a_revoked_token_is_a_configuration_problem_that_names_the_setting(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    other = "123456789:AAHsomebody-elses-token_987654"

    with pytest.raises(ProviderError) as raised:
        await make_transport(bot_token=other).send(text())

    assert (raised.value.code, raised.value.retryable) == ("unauthorized", False)
    assert "TELEGRAM_BOT_TOKEN" in str(raised.value)


async def test_a_connection_dropped_after_the_request_is_an_unknown_outcome_never_resent(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    server.script(dropped())

    with pytest.raises(DeliveryUnknown):
        await make_transport().send(text())

    assert len(server.calls) == 1


async def test_a_success_that_is_no_bot_api_answer_is_an_unknown_outcome(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    server.script(Answer(status=200, body={"unexpected": True}))

    with pytest.raises(DeliveryUnknown):
        await make_transport().send(text())

    assert len(server.calls) == 1


async def test_an_unreachable_api_is_retryable_and_nothing_was_sent(
    make_transport: MakeTransport, waits: list[float]
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(TransportError) as raised:
        await make_transport(api_base_url=f"http://127.0.0.1:{port}").send(text())

    assert not isinstance(raised.value, DeliveryUnknown)
    assert raised.value.retryable is True
    assert len(waits) == 2


async def test_the_token_never_reaches_an_error_or_a_log(
    make_transport: MakeTransport, server: TelegramLikeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(telegram_error(502, "Bad Gateway"), dropped())

    with pytest.raises(DeliveryUnknown) as raised:
        await make_transport().send(text())

    secret = BOT_TOKEN.partition(":")[2]
    chain = [raised.value, raised.value.__cause__, raised.value.__context__]
    assert all(secret not in str(error) for error in chain if error is not None)
    assert secret not in caplog.text
    assert any("retrying" in record.getMessage() for record in caplog.records)


async def test_what_telegram_would_refuse_is_not_sent(
    make_transport: MakeTransport, server: TelegramLikeServer
) -> None:
    with pytest.raises(MessageRejected):
        await make_transport().send(text("x" * 4097))

    assert server.calls == []


async def test_set_webhook_registers_the_url_with_the_secret_and_the_update_kinds(
    server: TelegramLikeServer,
) -> None:
    url = "https://walker.example.com/api/v1/channels/telegram/webhook"

    answer = await set_webhook(config(server.base_url), url)

    assert answer == "Webhook was set"
    assert (server.webhook.url, server.webhook.secret_token) == (url, SECRET)
    assert server.webhook.allowed_updates == [
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
    ]


async def test_set_webhook_refuses_plain_http_and_a_missing_secret_before_calling(
    server: TelegramLikeServer,
) -> None:
    with pytest.raises(InvalidInput, match="https"):
        await set_webhook(config(server.base_url), "http://walker.example.com/hook")
    with pytest.raises(ConfigurationError, match="TELEGRAM_WEBHOOK_SECRET"):
        await set_webhook(
            config(server.base_url, webhook_secret=None), "https://walker.example.com/hook"
        )

    assert server.calls == []


async def test_set_webhook_with_a_refused_token_is_a_configuration_error(
    server: TelegramLikeServer,
) -> None:
    refused = config(server.base_url, bot_token="123456789:AAHsomebody-elses-token_987654")

    with pytest.raises(ConfigurationError, match="TELEGRAM_BOT_TOKEN"):
        await set_webhook(refused, "https://walker.example.com/hook")
