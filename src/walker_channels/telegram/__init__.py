"""Telegram bots: the transport, the webhook, its settings, and registering the webhook.

Build one :class:`TelegramTransport` at start-up (it holds a connection pool) and close it at
shutdown; :class:`TelegramWebhook` checks the secret token and parses updates
(:func:`parse_update` is the pure parser). Register the channel with
``build_services(channels=[telegram_channel(config)])`` (the settings do it when
``TELEGRAM_BOT_TOKEN`` is set), map the bot
(:attr:`TelegramConfig.bot_address`) to its tenant, and call :func:`set_webhook` once.
Telegram's refusals live here as a table (:data:`TELEGRAM_ERRORS`).
"""

from __future__ import annotations

from walker_channels.telegram.channel import telegram_channel
from walker_channels.telegram.config import (
    DEFAULT_API_BASE_URL,
    TELEGRAM,
    WEBHOOK_PATH,
    TelegramConfig,
    TelegramRetry,
)
from walker_channels.telegram.errors import TELEGRAM_ERRORS, TelegramErrorInfo, describe
from walker_channels.telegram.markdown import MARKDOWN_V2_SPECIAL, escape_markdown_v2
from walker_channels.telegram.setup import ALLOWED_UPDATES, set_webhook, webhook_url
from walker_channels.telegram.transport import TelegramTransport
from walker_channels.telegram.updates import ParsedUpdate, parse_update
from walker_channels.telegram.webhooks import SECRET_HEADER, TelegramWebhook, verify_secret
from walker_channels.telegram.wire import (
    FILE_SCHEME,
    MAX_CAPTION_CHARS,
    MAX_TEXT_CHARS,
    file_url,
)

__all__ = [
    "ALLOWED_UPDATES",
    "DEFAULT_API_BASE_URL",
    "FILE_SCHEME",
    "MARKDOWN_V2_SPECIAL",
    "MAX_CAPTION_CHARS",
    "MAX_TEXT_CHARS",
    "SECRET_HEADER",
    "TELEGRAM",
    "TELEGRAM_ERRORS",
    "WEBHOOK_PATH",
    "ParsedUpdate",
    "TelegramConfig",
    "TelegramErrorInfo",
    "TelegramRetry",
    "TelegramTransport",
    "TelegramWebhook",
    "describe",
    "escape_markdown_v2",
    "file_url",
    "parse_update",
    "set_webhook",
    "telegram_channel",
    "verify_secret",
    "webhook_url",
]
