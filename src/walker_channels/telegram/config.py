"""Telegram's channel name and the settings of its transport and webhook (a frozen model)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from walker_channels.models import Address, Channel
from walker_channels.models.base import Frozen
from walker_channels.retrying import RetrySettings
from walker_channels.urls import api_base_url

TELEGRAM = Channel.define("telegram")
"""The Telegram channel."""
DEFAULT_API_BASE_URL = "https://api.telegram.org"
WEBHOOK_PATH = "/api/v1/channels/telegram/webhook"
"""Where the services serve Telegram's webhook (below the router's prefix)."""

# BotFather's tokens are "<bot id>:<secret>"; the id alone names the bot.
_TOKEN = re.compile(r"([0-9]{1,20}):[A-Za-z0-9_-]{20,100}")
# setWebhook's secret_token: 1-256 characters, A-Z, a-z, 0-9, _ and - only.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


TelegramRetry = RetrySettings
"""The transport's retry settings: the shared :class:`~walker_channels.retrying.RetrySettings`.

It sends again after a 429 (waiting Telegram's ``retry_after`` in full), a 5xx or a failure
before the request left; never after the request may have arrived. A ``retry_after`` longer
than ``retry_after_cap``, or one that would end past ``max_total_seconds``, is not waited for:
the send fails as retryable at once (sending earlier is refused again).
"""


class TelegramConfig(Frozen):
    """How the Telegram transport and webhook reach and recognise one bot.

    ``bot_token`` is BotFather's ``<bot id>:<secret>``; it sits in every Bot API URL, so the
    transport never lets a URL reach a log or an error. ``webhook_secret`` is what
    ``setWebhook`` registered as ``secret_token``: without it every webhook is refused.
    ``parse_mode`` (``MarkdownV2`` or ``HTML``) makes Telegram read replies as formatted text;
    unset, text goes out exactly as written (see :func:`escape_markdown_v2`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    bot_token: SecretStr
    webhook_secret: SecretStr | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    parse_mode: Literal["MarkdownV2", "HTML"] | None = None
    max_in_flight: int = Field(default=32, ge=1, le=1024)
    connect_timeout: float = Field(default=5.0, gt=0, le=120)
    read_timeout: float = Field(default=15.0, gt=0, le=300)
    retry: RetrySettings = RetrySettings()

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("a bot token is BotFather's <bot id>:<secret>")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("the webhook secret is 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return api_base_url(value)

    @property
    def bot_id(self) -> str:
        """The bot's numeric id: the token's part before the colon (safe to show)."""
        return self.bot_token.get_secret_value().partition(":")[0]

    @property
    def bot_address(self) -> Address:
        """The bot as a tenant's receiving address: map it to the tenant that owns the bot."""
        return Address(channel=TELEGRAM, value=self.bot_id)

    def method_url(self, method: str) -> str:
        """``{base}/bot{token}/{method}``: holds the token, never log or show it."""
        return f"{self.api_base_url}/bot{self.bot_token.get_secret_value()}/{method}"
