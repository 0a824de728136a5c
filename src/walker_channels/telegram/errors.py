"""Telegram's error answers as data: ``{"ok": false, "error_code", "description", "parameters"}``
mapped by table to a clear code, whether trying again can help, and what to fix.

Telegram names the cause only in ``description`` ("Forbidden: bot was blocked by the user"),
so the table is keyed by the HTTP status and the start of that text. The description itself
is never copied into our errors: our messages come from the table and are safe to log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple

from walker_channels.exceptions import ProviderError, RecipientOptedOut


class TelegramErrorInfo(NamedTuple):
    """One kind of refusal: our code for it, its meaning, whether a retry can help, the fix,
    and whether it means the person opted out (a :class:`RecipientOptedOut`)."""

    code: str
    meaning: str
    retryable: bool
    fix: str
    opted_out: bool = False


class TelegramFailure(NamedTuple):
    """A refusal read from an answer: the typed error, and Telegram's advised wait, if any."""

    error: ProviderError
    retry_after: float | None


_E = TelegramErrorInfo
_MEDIA = "send a public http(s) URL Telegram can fetch, or a file id this bot received"
_FIRST = "the person has to open the bot and press Start (or write to it) first"

TELEGRAM_ERRORS: Mapping[int, Mapping[str, TelegramErrorInfo]] = {
    400: {
        "bad request: chat not found": _E("chat_not_found", "no such chat", False, _FIRST),
        "bad request: message is too long": _E(
            "message_too_long", "the text is over 4096 characters", False, "shorten the text"
        ),
        "bad request: message caption is too long": _E(
            "caption_too_long", "the caption is over 1024 characters", False, "shorten it"
        ),
        "bad request: message text is empty": _E(
            "text_empty", "the text is empty", False, "send some text"
        ),
        "bad request: can't parse entities": _E(
            "cant_parse_entities",
            "the text is not valid for its parse_mode",
            False,
            "escape the text (escape_markdown_v2) or send without parse_mode",
        ),
        "bad request: wrong file identifier": _E(
            "media_unavailable", "the media could not be used", False, _MEDIA
        ),
        "bad request: failed to get http url content": _E(
            "media_unavailable", "Telegram could not fetch the media", False, _MEDIA
        ),
        "bad request: wrong type of the web page content": _E(
            "media_unavailable", "the URL is not media of that kind", False, _MEDIA
        ),
        "bad request: group chat was upgraded to a supergroup chat": _E(
            "chat_migrated", "the group moved to a new chat id", False, "use the new chat id"
        ),
    },
    401: {
        "": _E(
            "unauthorized",
            "the bot token was refused",
            False,
            "check TELEGRAM_BOT_TOKEN (BotFather's current token for the bot)",
        ),
    },
    403: {
        "forbidden: bot was blocked by the user": _E(
            "bot_blocked",
            "the person blocked the bot",
            False,
            "do not message this person until they unblock the bot",
            True,
        ),
        "forbidden: user is deactivated": _E(
            "user_deactivated", "the person's account is deleted", False, "stop messaging them"
        ),
        "forbidden: bot was kicked": _E(
            "bot_kicked", "the bot was removed from the group", False, "add the bot back"
        ),
        "forbidden: bot can't initiate conversation": _E(
            "cannot_initiate", "the person never wrote to the bot", False, _FIRST
        ),
        "forbidden: bot is not a member": _E(
            "not_a_member", "the bot is not in that chat", False, "add the bot to the chat"
        ),
    },
    404: {
        "": _E(
            "not_found",
            "no such Bot API method or bot",
            False,
            "check TELEGRAM_API_BASE_URL and TELEGRAM_BOT_TOKEN",
        ),
    },
    429: {
        "": _E("too_many_requests", "Telegram's flood limit", True, "slow down and retry later"),
    },
}
"""Refusals this library knows, by HTTP status then the start of the (lower-case)
description; ``""`` matches any description of that status."""


def retried_now(status: int) -> bool:
    """Whether the transport sends again at once after this HTTP status: 429 and 5xx only."""
    return status == 429 or status >= 500


def describe(status: int, description: str) -> TelegramErrorInfo | None:
    """The table entry for an answer with ``status`` and Telegram's ``description``."""
    known = TELEGRAM_ERRORS.get(status, {})
    text = description.strip().lower()
    return next((info for start, info in known.items() if text.startswith(start)), None)


def failure(status: int, body: bytes) -> TelegramFailure:
    """The typed error of a non-2xx answer (or an ``"ok": false`` one) from the Bot API.

    ``code`` is the table's name for it, else Telegram's ``error_code`` (else the HTTP
    status). Telegram sends the HTTP status as ``error_code`` too; the body's wins.
    """
    document = answer_document(body)
    error_code = document.get("error_code")
    if isinstance(error_code, int) and not isinstance(error_code, bool) and error_code >= 400:
        status = error_code
    description = document.get("description")
    info = describe(status, description if isinstance(description, str) else "")
    retryable = retried_now(status) or (info is not None and info.retryable)
    code = info.code if info is not None else str(status)
    kind = RecipientOptedOut if info is not None and info.opted_out else ProviderError
    error = kind(_message(status, info), retryable=retryable, code=code)
    return TelegramFailure(error, _retry_after(document) if status == 429 else None)


def answer_document(body: bytes) -> Mapping[str, object]:
    """A Bot API answer's JSON object; ``{}`` when the body is no JSON object."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


def _retry_after(document: Mapping[str, object]) -> float | None:
    parameters = document.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _message(status: int, info: TelegramErrorInfo | None) -> str:
    if info is not None:
        return f"Telegram refused ({info.code}, HTTP {status}): {info.meaning}; {info.fix}"
    if status >= 500:
        return f"Telegram server error (HTTP {status}): retry later"
    return (
        f"Telegram refused the request (HTTP {status}); see "
        "https://core.telegram.org/bots/api#making-requests"
    )
