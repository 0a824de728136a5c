"""Telegram end to end, through both adapters, with the real transport and a Bot-API-like server.

Updates are the Bot API's ``Update`` objects under ``tests/fixtures/telegram``, posted as
Telegram posts them (JSON, with the secret-token header); the agent's answers go out through
:class:`~walker_channels.telegram.TelegramTransport` to a
:class:`~walker_channels.testing.telegram_server.TelegramLikeServer` on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_harness import TENANT_A, Harness, MakeApp

from walker_channels.models import Address
from walker_channels.telegram import SECRET_HEADER, TELEGRAM, WEBHOOK_PATH
from walker_channels.testing.telegram_server import (
    BOT_ID,
    BOT_TOKEN,
    Call,
    TelegramLikeServer,
    flood_wait,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
SECRET = "telegram-secret-for-tests_42"
CHAT = 1111111
LOG = "/api/v1/admin/conversations/whatsapp"
OPT_OUTS = f"/api/v1/admin/tenants/{TENANT_A}/opt-outs"
WAIT_SECONDS = 5.0
ANSWERED = {
    "text": "Echo: hello from telegram",
    "edited_text": "Echo: hello from telegram, edited",
    "photo": "Echo: the broken part",
    "document": "Echo: (1 attachment)",
    "voice": "Echo: (1 attachment)",
    "contact": "Echo: (1 attachment)",
    "location": "Echo:",
    "venue": "Echo:",
    "callback_query": "Echo: Yes, confirm",
    "reply": "Echo: yes, that one",
    "forwarded": "Echo: is this offer real?",
}
"""Each kind of update the webhook reads, and the echo agent's answer to it."""


def update(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


@pytest.fixture
def telegram() -> Iterator[TelegramLikeServer]:
    """A Telegram-like Bot API on 127.0.0.1, on its own event loop in a thread."""
    with TelegramLikeServer().in_thread() as server:
        yield server


def telegram_app(make_app: MakeApp, telegram: TelegramLikeServer, **overrides: Any) -> Harness:
    """The app with the Telegram channel on ``telegram``, its bot owned by tenant A."""
    settings = {
        "telegram_bot_token": BOT_TOKEN,
        "telegram_webhook_secret": SECRET,
        "telegram_api_base_url": telegram.base_url,
        **overrides,
    }
    app = make_app(**settings)
    bot = Address(channel=TELEGRAM, value=str(BOT_ID))

    async def own_the_bot() -> None:
        await app.services.stores.tenants.add_number(TENANT_A, bot)  # type: ignore[attr-defined]

    app.run(own_the_bot)
    return app


@pytest.fixture
def app(make_app: MakeApp, telegram: TelegramLikeServer) -> Harness:
    return telegram_app(make_app, telegram)


def post_update(app: Harness, body: bytes, *, secret: str | None = SECRET) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    response: httpx.Response = app.client.post(WEBHOOK_PATH, content=body, headers=headers)
    return response


def sent(telegram: TelegramLikeServer, count: int) -> list[Call]:
    """The first ``count`` messages the bot sent (waited for, within bounds)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(telegram.sent) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(telegram.sent) >= count, f"Telegram got {len(telegram.sent)} of {count}"
    return telegram.sent[:count]


def log_types(app: Harness) -> list[str]:
    items = app.get(LOG, channel="telegram").json()["items"]
    return [item["type"] for item in reversed(items)]


@pytest.mark.parametrize("name", sorted(ANSWERED))
def test_every_kind_of_update_is_answered_in_its_chat(
    app: Harness, telegram: TelegramLikeServer, name: str
) -> None:
    response = post_update(app, update(name))

    assert response.status_code == 200
    [reply] = sent(telegram, 1)
    assert (reply.method, reply.token) == ("sendMessage", BOT_TOKEN)
    assert reply.payload == {"chat_id": str(CHAT), "text": ANSWERED[name]}
    assert log_types(app) == ["inbound", "outbound"]


def test_a_button_tap_is_answered_in_the_webhook_reply_so_the_button_stops_spinning(
    app: Harness, telegram: TelegramLikeServer
) -> None:
    response = post_update(app, update("callback_query"))

    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d9",
    }


def test_a_redelivered_update_is_answered_once(app: Harness, telegram: TelegramLikeServer) -> None:
    first, again = post_update(app, update("text")), post_update(app, update("text"))

    assert first.status_code == again.status_code == 200
    sent(telegram, 1)
    time.sleep(0.1)
    assert len(telegram.sent) == 1
    assert log_types(app) == ["inbound", "outbound"]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
def test_a_missing_or_wrong_secret_is_refused_with_403_and_nothing_is_stored(
    app: Harness, telegram: TelegramLikeServer, secret: str | None
) -> None:
    response = post_update(app, update("text"), secret=secret)

    assert response.status_code == 403
    assert "detail" in response.json()
    assert log_types(app) == []
    assert telegram.calls == []


def test_without_a_configured_secret_every_update_is_refused(
    make_app: MakeApp, telegram: TelegramLikeServer
) -> None:
    app = telegram_app(make_app, telegram, telegram_webhook_secret=None)

    response = post_update(app, update("text"), secret="anything-at-all")

    assert response.status_code == 403
    assert telegram.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"message": {"text": "no update id"}}',
        b'{"update_id": 7, "message": {"message_id": 1, "text": "no chat"}}',
        b'{"update_id": 7, "callback_query": {"data": "no id"}}',
    ],
)
def test_a_malformed_update_is_400_with_a_json_detail(
    app: Harness, telegram: TelegramLikeServer, body: bytes
) -> None:
    response = post_update(app, body)

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert telegram.calls == []


@pytest.mark.parametrize("name", ["channel_post", "new_members"])
def test_an_update_of_another_kind_is_200_and_ignored(
    app: Harness, telegram: TelegramLikeServer, name: str
) -> None:
    response = post_update(app, update(name))

    assert response.status_code == 200
    time.sleep(0.1)
    assert telegram.calls == []
    assert log_types(app) == []


def test_a_flood_wait_delays_the_reply_by_telegrams_retry_after(
    app: Harness, telegram: TelegramLikeServer
) -> None:
    telegram.script(flood_wait(1))

    post_update(app, update("text"))

    [reply] = sent(telegram, 1)
    refused, retried = telegram.calls_of("sendMessage")
    assert retried is reply
    assert retried.arrived_at - refused.arrived_at >= 1.0
    assert log_types(app) == ["inbound", "outbound"]


def test_a_reply_to_a_person_who_blocked_the_bot_is_recorded_as_failed_with_its_code(
    app: Harness, telegram: TelegramLikeServer
) -> None:
    telegram.blocked.add(str(CHAT))

    post_update(app, update("text"))

    deadline = time.monotonic() + WAIT_SECONDS
    while "outbound_failed" not in log_types(app) and time.monotonic() < deadline:
        time.sleep(0.02)
    [failed] = [
        item
        for item in app.get(LOG, channel="telegram").json()["items"]
        if item["type"] == "outbound_failed"
    ]
    assert failed["error_code"] == "bot_blocked"
    assert telegram.sent == []
    [opted_out] = app.get(OPT_OUTS).json()["items"]
    assert opted_out["channel"] == "telegram"


def opt_outs(app: Harness) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = app.get(OPT_OUTS).json()["items"]
    return items


def test_blocking_the_bot_opts_out_and_unblocking_opts_back_in_without_an_answer(
    app: Harness, telegram: TelegramLikeServer
) -> None:
    blocked = post_update(app, update("blocked"))
    listed = opt_outs(app)
    unblocked = post_update(app, update("unblocked"))
    after = opt_outs(app)
    post_update(app, update("text"))

    assert blocked.status_code == unblocked.status_code == 200
    assert [(item["channel"], item["source"]) for item in listed] == [("telegram", "provider")]
    assert after == []
    [reply] = sent(telegram, 1)
    assert reply.payload["text"] == "Echo: hello from telegram"


def test_without_a_bot_token_there_is_no_telegram_webhook(make_app: MakeApp) -> None:
    app = make_app()

    response = app.client.post(WEBHOOK_PATH, content=update("text"))

    assert response.status_code in (404, 405)
