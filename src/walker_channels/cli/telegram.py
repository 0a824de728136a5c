"""``walker-channels telegram set-webhook``: tell Telegram to post the bot's updates here.

It calls the Bot API's ``setWebhook`` with ``url`` = ``WALKER_PUBLIC_URL`` + the webhook path
and ``secret_token`` = ``TELEGRAM_WEBHOOK_SECRET``, for the bot of ``TELEGRAM_BOT_TOKEN`` at
``TELEGRAM_API_BASE_URL``. Run it again after changing the public URL or the secret.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from walker_channels.exceptions import ConfigurationError, WalkerError


def register(subparsers: Any) -> None:
    """Add the ``telegram`` command group to the ``walker-channels`` command."""
    telegram = subparsers.add_parser("telegram", help="configure the Telegram bot")
    actions = telegram.add_subparsers(dest="telegram_command", required=True)
    set_webhook = actions.add_parser(
        "set-webhook", help="register this server's webhook and secret with Telegram"
    )
    set_webhook.add_argument(
        "--drop-pending-updates",
        action="store_true",
        help="discard the updates Telegram queued while no webhook answered",
    )
    set_webhook.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    import anyio

    from walker_channels.app import Settings
    from walker_channels.telegram import set_webhook, webhook_url

    try:
        settings = Settings()
        config = settings.telegram_config()
        if config is None:
            raise ConfigurationError("set TELEGRAM_BOT_TOKEN, the bot's token from BotFather")
        if not settings.walker_public_url:
            raise ConfigurationError("set WALKER_PUBLIC_URL, the https:// address Telegram reaches")
        url = webhook_url(settings.walker_public_url)
        answer = anyio.run(
            lambda: set_webhook(config, url, drop_pending_updates=args.drop_pending_updates)
        )
    except WalkerError as exc:
        print(f"walker-channels telegram {args.telegram_command}: {exc}", file=sys.stderr)
        return 2
    print(f"{answer}: Telegram posts bot {config.bot_id}'s updates to {url}")
    return 0
