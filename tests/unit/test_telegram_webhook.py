"""The Telegram webhook checks the secret token first, fails closed, and ignores other updates
without logging their content."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from walker_channels.exceptions import InvalidInput, InvalidSignature
from walker_channels.models import WebhookRequest
from walker_channels.telegram import SECRET_HEADER, TelegramConfig, TelegramWebhook

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
TOKEN = "123456789:AAHwebhook-test-token_0123456789"
SECRET = "webhook-unit-secret"
NOW = datetime(2026, 4, 6, 9, 15, tzinfo=UTC)


def request(name: str, *, secret: str | None = SECRET, method: str = "POST") -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER.lower()] = secret
    body = (FIXTURES / f"{name}.json").read_bytes()
    return WebhookRequest(
        method=method, url="https://walker.example.com/hook", headers=headers, body=body
    )


def webhook(secret: str | None = SECRET) -> TelegramWebhook:
    return TelegramWebhook(TelegramConfig(bot_token=TOKEN, webhook_secret=secret))


async def test_an_update_with_the_secret_is_one_message_and_a_plain_200() -> None:
    batch = await webhook().receive(request("text"), received_at=NOW)

    [message] = batch.messages
    assert message.provider_message_id == "tg:123456789:10000"
    assert (batch.reply.status, batch.reply.body, batch.statuses) == (200, b"", ())


@pytest.mark.parametrize("given", [None, "", "webhook-unit-secreT", "webhook-unit-secret "])
async def test_a_missing_or_wrong_secret_is_an_invalid_signature(given: str | None) -> None:
    with pytest.raises(InvalidSignature):
        await webhook().receive(request("text", secret=given), received_at=NOW)


async def test_without_a_configured_secret_even_an_empty_header_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="TELEGRAM_WEBHOOK_SECRET"):
        await webhook(secret=None).receive(request("text", secret=""), received_at=NOW)


async def test_the_secret_is_checked_before_the_method() -> None:
    with pytest.raises(InvalidSignature):
        await webhook().receive(request("text", secret=None, method="GET"), received_at=NOW)
    with pytest.raises(InvalidInput, match="POST"):
        await webhook().receive(request("text", method="GET"), received_at=NOW)


async def test_an_ignored_update_is_logged_by_kind_without_its_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="walker_channels.telegram")

    batch = await webhook().receive(request("channel_post"), received_at=NOW)

    assert batch.messages == ()
    [record] = caplog.records
    assert record.levelno == logging.DEBUG
    assert "channel_post" in record.getMessage()
    assert "a post in a channel" not in caplog.text
