"""Registering the webhook with Telegram (``setWebhook``), with the secret token."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from walker_channels.exceptions import ConfigurationError, InvalidInput, WalkerError
from walker_channels.telegram.api import BotApi
from walker_channels.telegram.config import WEBHOOK_PATH, TelegramConfig
from walker_channels.telegram.errors import answer_document, failure

ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
"""The update kinds the webhook reads; Telegram sends no others once told so."""


def webhook_url(public_url: str) -> str:
    """Where Telegram posts updates: ``public_url`` (``WALKER_PUBLIC_URL``) + the webhook path."""
    return public_url.rstrip("/") + WEBHOOK_PATH


async def set_webhook(
    config: TelegramConfig,
    url: str,
    *,
    drop_pending_updates: bool = False,
    pool: httpx.AsyncBaseTransport | None = None,
) -> str:
    """Tell Telegram to post the bot's updates to ``url`` with ``config``'s webhook secret.

    Returns Telegram's description of what it did ("Webhook was set"). Raises
    :class:`InvalidInput` for a URL that is not https (Telegram requires it),
    :class:`ConfigurationError` without a webhook secret or when the token is refused, and
    :class:`WalkerError` when Telegram cannot be reached or refuses.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise InvalidInput("Telegram posts only to https:// URLs: check WALKER_PUBLIC_URL")
    if config.webhook_secret is None:
        raise ConfigurationError(
            "set TELEGRAM_WEBHOOK_SECRET first: without it the webhook refuses every update"
        )
    payload = {
        "url": url,
        "secret_token": config.webhook_secret.get_secret_value(),
        "allowed_updates": list(ALLOWED_UPDATES),
        "drop_pending_updates": drop_pending_updates,
    }
    api = BotApi(config, transport=pool)
    try:
        answer = await api.call("setWebhook", payload)
    finally:
        await api.aclose()
    document = answer_document(answer.body)
    if answer.status == 200 and document.get("ok") is True:
        description = document.get("description")
        return description if isinstance(description, str) else "Webhook was set"
    refused = failure(answer.status, answer.body).error
    if refused.code == "unauthorized":
        raise ConfigurationError(str(refused))
    raise WalkerError(str(refused))
