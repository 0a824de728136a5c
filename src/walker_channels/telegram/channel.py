"""The Telegram channel as data: its spec for ``build_services(channels=[...])``."""

from __future__ import annotations

from walker_channels.channels import ChannelSpec
from walker_channels.telegram.config import TELEGRAM, TelegramConfig
from walker_channels.telegram.transport import TelegramTransport
from walker_channels.telegram.webhooks import TelegramWebhook
from walker_channels.telegram.wire import chat_id


def telegram_channel(
    config: TelegramConfig, *, transport: TelegramTransport | None = None
) -> ChannelSpec:
    """The bot's channel: its transport (a new one unless given: close it at shutdown), its
    webhook, no service window (a bot may write whenever the person has not blocked it), and
    chat ids (or a public channel's ``@username``) as addresses."""
    return ChannelSpec(
        name=TELEGRAM,
        transport=transport or TelegramTransport(config),
        label="Telegram",
        webhook=TelegramWebhook(config),
        address=chat_id,
    )
