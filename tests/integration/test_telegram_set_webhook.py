"""``walker-channels telegram set-webhook`` as a user runs it, against the Telegram-like Bot API:
it registers ``WALKER_PUBLIC_URL`` + the webhook path and the secret with ``setWebhook``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from walker_channels.testing.telegram_server import BOT_TOKEN, TelegramLikeServer

pytestmark = pytest.mark.anyio

PUBLIC = "https://walker.example.com/"
SECRET = "cli-secret-for-tests_0123"


async def set_webhook(server: TelegramLikeServer, *args: str, **env: str) -> tuple[int, str, str]:
    """Run the command in a subprocess (the server keeps answering on this loop)."""
    prefixes = ("WALKER_", "TELEGRAM_")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    environ |= {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "WALKER_PUBLIC_URL": PUBLIC,
        **env,
    }
    environ = {k: v for k, v in environ.items() if v}  # an empty value unsets the variable
    script = Path(sys.executable).with_name("walker-channels")
    process = await asyncio.create_subprocess_exec(
        str(script),
        "telegram",
        "set-webhook",
        *args,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_webhook_is_set_to_the_public_url_with_the_secret() -> None:
    async with TelegramLikeServer() as server:
        status, out, err = await set_webhook(server, "--drop-pending-updates")

        assert status == 0, err
        url = "https://walker.example.com/api/v1/channels/telegram/webhook"
        assert (server.webhook.url, server.webhook.secret_token) == (url, SECRET)
        [call] = server.calls
        assert (call.method, call.token) == ("setWebhook", BOT_TOKEN)
        assert call.payload["drop_pending_updates"] is True
        assert out.strip() == f"Webhook was set: Telegram posts bot 123456789's updates to {url}"
        assert BOT_TOKEN.partition(":")[2] not in out + err


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"WALKER_PUBLIC_URL": ""}, "WALKER_PUBLIC_URL"),
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_WEBHOOK_SECRET": ""}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"WALKER_PUBLIC_URL": "http://walker.example.com"}, "https"),
        ({"TELEGRAM_BOT_TOKEN": "123456789:AAHsomebody-elses-token_987654"}, "TELEGRAM_BOT_TOKEN"),
    ],
)
async def test_what_is_missing_or_refused_is_named_with_exit_status_2(
    env: dict[str, str], names: str
) -> None:
    async with TelegramLikeServer() as server:
        status, _, err = await set_webhook(server, **env)

        assert status == 2
        assert names in err
        assert server.webhook.url == ""
        assert "somebody-elses" not in err
