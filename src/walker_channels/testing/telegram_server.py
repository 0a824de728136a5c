"""A Telegram-Bot-API-like server over real HTTP/1.1 on 127.0.0.1, with faults a test scripts.

It serves ``POST /bot<token>/<method>`` (JSON or form bodies) as ``api.telegram.org`` does,
with the documented answers: ``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code", "description", "parameters"}``. It knows ``getMe``, ``sendMessage``,
``sendPhoto``, ``sendDocument``, ``answerCallbackQuery``, ``setWebhook``, ``deleteWebhook``
and ``getWebhookInfo``; a wrong token is 401, an unknown method 404, a blocked chat 403. A
test scripts the next answers (:func:`telegram_error`, a 429 with ``retry_after``, a dropped
connection) and reads every call that arrived, with the time it arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from walker_channels.testing.loopback_http import LoopbackServer, json_response, read_request

BOT_ID = 123456789
BOT_TOKEN = f"{BOT_ID}:AAHloopback-test-token_0123456789"  # a well-known test token
BOT_USERNAME = "walker_loopback_bot"
_SENDS = {"sendMessage": "text", "sendPhoto": "photo", "sendDocument": "document"}


@dataclass(frozen=True)
class Call:
    """One request as the server read it."""

    method: str
    """The Bot API method (``sendMessage``), or the path when it named none."""
    token: str
    headers: Mapping[str, str]
    """Header names in lower case."""
    payload: Mapping[str, Any]
    arrived_at: float
    """``time.monotonic()`` when the request had arrived."""


@dataclass(frozen=True)
class Answer:
    """What the server does with one request: answer ``status`` with ``body`` (after
    ``delay``), or close the connection without answering (``drop``: the call still counts).

    ``body=None`` is the server's own answer (the message sent, the webhook set)."""

    status: int = 200
    body: Mapping[str, object] | None = None
    delay: float = 0.0
    drop: bool = False


def telegram_error(error_code: int, description: str, *, retry_after: int | None = None) -> Answer:
    """A refusal as Telegram words it (``retry_after`` goes in ``parameters``, as for 429)."""
    body: dict[str, object] = {"ok": False, "error_code": error_code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return Answer(status=error_code, body=body)


def flood_wait(retry_after: int) -> Answer:
    """Telegram's 429: ``Too Many Requests: retry after N`` with ``parameters.retry_after``."""
    return telegram_error(
        429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
    )


def dropped() -> Answer:
    """Take the request, then close the connection without a word (the outcome is unknown)."""
    return Answer(drop=True)


@dataclass
class _Webhook:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] = field(default_factory=list)


class TelegramLikeServer(LoopbackServer):
    """The server; ``async with`` starts it on a free port of 127.0.0.1 in the running loop."""

    def __init__(self, *, token: str = BOT_TOKEN, username: str = BOT_USERNAME) -> None:
        super().__init__()
        self.token = token
        self.bot_id = int(token.partition(":")[0])
        self.username = username
        self.calls: list[Call] = []
        self.sent: list[Call] = []
        """The sends the server accepted, in order."""
        self.webhook = _Webhook()
        self.blocked: set[str] = set()
        """Chat ids whose person blocked the bot: sends to them are refused with 403."""
        self._script: list[Answer] = []
        self._message_ids: dict[str, int] = {}

    def script(self, *answers: Answer) -> None:
        """Use these answers for the next requests, in order; then the server's own again."""
        self._script.extend(answers)

    def calls_of(self, method: str) -> list[Call]:
        """The calls of ``method`` that arrived, in order."""
        return [call for call in self.calls if call.method == method]

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        call = await _read_call(reader)
        if call is None:
            return False
        self.calls.append(call)
        scripted = self._script.pop(0) if self._script else Answer()
        await asyncio.sleep(scripted.delay)
        if scripted.drop:
            return False
        if scripted.body is not None:
            status, body = scripted.status, scripted.body
        else:
            status, body = self._answer(call)
        writer.write(json_response(status, body))
        await writer.drain()
        return True

    def _answer(self, call: Call) -> tuple[int, Mapping[str, object]]:
        if call.token != self.token:
            return _refusal(401, "Unauthorized")
        if call.method in _SENDS:
            return self._send(call)
        if call.method == "getMe":
            return _ok({"id": self.bot_id, "is_bot": True, "username": self.username})
        if call.method == "setWebhook":
            return self._set_webhook(call.payload)
        if call.method == "deleteWebhook":
            self.webhook = _Webhook()
            return _ok(True, description="Webhook was deleted")
        if call.method == "getWebhookInfo":
            return _ok({"url": self.webhook.url, "pending_update_count": 0})
        if call.method == "answerCallbackQuery":
            return _ok(True)
        return _refusal(404, "Not Found")

    def _send(self, call: Call) -> tuple[int, Mapping[str, object]]:
        chat_id = str(call.payload.get("chat_id", ""))
        content = call.payload.get(_SENDS[call.method])
        if not chat_id:
            return _refusal(400, "Bad Request: chat_id is empty")
        if not content:
            what = "message text" if call.method == "sendMessage" else "there is no media"
            return _refusal(400, f"Bad Request: {what} is empty")
        if chat_id in self.blocked:
            return _refusal(403, "Forbidden: bot was blocked by the user")
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        self.sent.append(call)
        message: dict[str, object] = {
            "message_id": self._message_ids[chat_id],
            "from": {"id": self.bot_id, "is_bot": True, "username": self.username},
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else 0, "type": "private"},
            "date": int(time.time()),
        }
        if call.method == "sendMessage":
            message["text"] = content
        elif call.payload.get("caption"):
            message["caption"] = call.payload["caption"]
        return _ok(message)

    def _set_webhook(self, payload: Mapping[str, Any]) -> tuple[int, Mapping[str, object]]:
        url = str(payload.get("url", ""))
        if url and not url.startswith("https://"):
            return _refusal(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        secret = payload.get("secret_token")
        self.webhook = _Webhook(url, secret, list(payload.get("allowed_updates") or []))
        return _ok(True, description="Webhook was set" if url else "Webhook was deleted")


def _ok(result: object, *, description: str | None = None) -> tuple[int, Mapping[str, object]]:
    body: dict[str, object] = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return 200, body


def _refusal(code: int, description: str) -> tuple[int, Mapping[str, object]]:
    return code, {"ok": False, "error_code": code, "description": description}


async def _read_call(reader: asyncio.StreamReader) -> Call | None:
    raw = await read_request(reader)
    if raw is None:
        return None
    token, method = _route(raw.path.partition("?")[0])
    return Call(method, token, raw.headers, _payload(raw.headers, raw.body), time.monotonic())


def _route(path: str) -> tuple[str, str]:
    """``/bot<token>/<method>`` as (token, method); anything else as ("", path)."""
    first, _, method = path.lstrip("/").partition("/")
    if not first.startswith("bot") or not method:
        return "", path
    return first.removeprefix("bot"), method


def _payload(headers: Mapping[str, str], body: bytes) -> Mapping[str, Any]:
    if not body:
        return {}
    if headers.get("content-type", "").startswith("application/json"):
        try:
            document = json.loads(body)
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
