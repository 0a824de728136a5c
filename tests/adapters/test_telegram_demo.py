"""The demo serves Telegram when the TELEGRAM_* settings are present: an update to its tenant's
bot is answered through a Telegram-Bot-API-like server."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from walker_channels.app import Settings
from walker_channels.models import Address
from walker_channels.telegram import SECRET_HEADER, TELEGRAM, WEBHOOK_PATH
from walker_channels.testing import TelegramLikeServer
from walker_channels.testing.telegram_server import BOT_ID, BOT_TOKEN
from walker_channels_fastapi.demo import DemoOptions, plan_demo
from walker_channels_fastapi.demo.app import create_demo_app
from walker_channels_fastapi.demo.compose import tenant_numbers

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "telegram" / "text.json"
SECRET = "demo-telegram-secret"
WAIT_SECONDS = 5.0


@pytest.fixture(autouse=True)
def no_provider_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo reads the environment: these tests start from one without providers."""
    for name in list(os.environ):
        if name.startswith(("TWILIO_", "WALKER_", "SMTP_", "LANGFLOW_", "META_", "TELEGRAM_")):
            monkeypatch.delenv(name)


@pytest.fixture
def telegram() -> Iterator[TelegramLikeServer]:
    with TelegramLikeServer().in_thread() as server:
        yield server


def telegram_settings(telegram: TelegramLikeServer) -> Settings:
    return Settings(
        telegram_bot_token=BOT_TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=telegram.base_url,
    )


def test_the_demo_tenant_owns_the_bot_only_when_it_is_configured(
    telegram: TelegramLikeServer,
) -> None:
    plain = plan_demo(Settings(), DemoOptions(), port=8123)
    with_bot = plan_demo(telegram_settings(telegram), DemoOptions(), port=8123)

    bot = Address(channel=TELEGRAM, value=str(BOT_ID))
    assert bot not in tenant_numbers(plain)
    assert bot in tenant_numbers(with_bot)


def test_the_demo_answers_a_telegram_update_through_the_bot_api(
    telegram: TelegramLikeServer, tmp_path: Path
) -> None:
    settings = telegram_settings(telegram)
    plan = plan_demo(settings, DemoOptions(database=tmp_path / "demo.db"), port=8123)
    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}

    with TestClient(create_demo_app(plan), base_url="http://127.0.0.1:8123") as client:
        response = client.post(WEBHOOK_PATH, content=FIXTURE.read_bytes(), headers=headers)
        deadline = time.monotonic() + WAIT_SECONDS
        while not telegram.sent and time.monotonic() < deadline:
            time.sleep(0.02)

    assert response.status_code == 200
    [reply] = telegram.sent
    assert reply.payload == {"chat_id": "1111111", "text": "Echo: hello from telegram"}
