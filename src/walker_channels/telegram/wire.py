"""Our outbound messages as Bot API calls, and the Bot API's answers as send results. Pure.

One message is one call, so a send is at most one Telegram message: text with
``sendMessage``; one media item with ``sendPhoto`` (images) or ``sendDocument`` (anything
else), the text as its caption. A media URL is either an http(s) URL Telegram fetches or
``telegram-file:<file_id>``, a file this bot received (inbound media are named so).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from walker_channels.exceptions import InvalidAddress, MessageRejected
from walker_channels.models import DeliveryStatus, Media, OutboundMessage, SendResult
from walker_channels.telegram.config import TELEGRAM, TelegramConfig
from walker_channels.texts import utf16_length

MAX_TEXT_CHARS = 4096
"""``sendMessage``'s limit on ``text`` (after entities parsing)."""
MAX_CAPTION_CHARS = 1024
"""The limit on a photo's or document's ``caption``."""
FILE_SCHEME = "telegram-file:"
"""The prefix of a media URL that names a Telegram file by its ``file_id``."""
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

# A chat id is an integer (negative for groups); a public channel may be named @username.
_CHAT_ID = re.compile(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}")


def chat_id(raw: str) -> str:
    """Telegram's address rule: a chat id (an integer, negative for groups) or a public
    channel's ``@username``, stripped; raises :class:`InvalidAddress` (never repeating it)."""
    text = raw.strip()
    if not _CHAT_ID.fullmatch(text):
        raise InvalidAddress(
            "a Telegram address is a chat id (digits, '-' first for groups) or @channelusername"
        )
    return text


def file_url(file_id: str) -> str:
    """The media URL of a Telegram file: what inbound media carry, and what can be sent back."""
    return FILE_SCHEME + file_id


def outbound_call(
    message: OutboundMessage, config: TelegramConfig
) -> tuple[str, dict[str, object]]:
    """The Bot API method and JSON payload that send ``message``.

    Raises :class:`MessageRejected` for what Telegram would refuse or cannot carry: a
    template, more than one media item, a text over 4096 (a caption over 1024) characters.
    """
    _check_kind(message)
    chat_id = message.to.value
    if not _CHAT_ID.fullmatch(chat_id):
        raise MessageRejected("a Telegram address is a chat id (digits, '-' for groups)")
    formatting = {"parse_mode": config.parse_mode} if config.parse_mode else {}
    text = message.text or ""
    if not message.media:
        if not text.strip():
            raise MessageRejected("the message is empty: give it text or one media item")
        _check_length(text, MAX_TEXT_CHARS, "text")
        return "sendMessage", {"chat_id": chat_id, "text": text, **formatting}
    if len(message.media) > 1:
        raise MessageRejected(
            f"{len(message.media)} media items; a Telegram message carries one: send the "
            "others in separate messages"
        )
    [item] = message.media
    method, field = ("sendPhoto", "photo") if is_photo(item) else ("sendDocument", "document")
    payload: dict[str, object] = {"chat_id": chat_id, field: _media_reference(item)}
    if text:
        _check_length(text, MAX_CAPTION_CHARS, "caption")
        payload |= {"caption": text, **formatting}
    return method, payload


def is_photo(item: Media) -> bool:
    """Whether ``item`` goes out as a photo: an image Telegram shows inline (not a GIF)."""
    if item.content_type:
        kind = item.content_type.lower()
        return kind.startswith("image/") and kind != "image/gif"
    return urlsplit(item.url).path.lower().endswith(PHOTO_EXTENSIONS)


def send_result(answer: Mapping[str, object]) -> SendResult:
    """The :class:`SendResult` of a successful send's answer (``{"ok": true, "result": Message}``).

    The provider id is Telegram's ``message_id``, numbered per chat (a quoted message names
    the same id). Only the ids and the date are kept: the rest repeats the chat and the text.
    """
    result = answer.get("result")
    message_id = result.get("message_id") if isinstance(result, Mapping) else None
    date = result.get("date") if isinstance(result, Mapping) else None
    provider_id = str(message_id) if isinstance(message_id, int) else None
    return SendResult(
        channel=TELEGRAM,
        provider_message_id=provider_id,
        status=DeliveryStatus.SENT,
        raw={"message_id": message_id, "date": date},
    )


def _check_kind(message: OutboundMessage) -> None:
    if message.channel != TELEGRAM or message.to.channel != TELEGRAM:
        raise MessageRejected(
            f"this transport sends on telegram; the message is for {message.channel.value}"
        )
    if message.template is not None:
        raise MessageRejected("Telegram has no content templates: send text instead")
    if message.options is not None:
        raise MessageRejected("send options are Twilio's; Telegram takes none: drop them")


def _check_length(text: str, limit: int, name: str) -> None:
    length = utf16_length(text)
    if length > limit:
        raise MessageRejected(
            f"the {name} is {length} characters; Telegram accepts at most {limit}: shorten it"
        )


def _media_reference(item: Media) -> str:
    if item.url.startswith(FILE_SCHEME) and len(item.url) > len(FILE_SCHEME):
        return item.url.removeprefix(FILE_SCHEME)
    parts = urlsplit(item.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MessageRejected(
            "a Telegram media URL is an absolute http(s) URL or telegram-file:<file_id>"
        )
    return item.url
