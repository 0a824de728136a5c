"""Telegram's webhook updates (Bot API ``Update`` objects) as domain objects. Pure.

A ``message`` or ``edited_message`` becomes an :class:`InboundMessage`: its text (or a
caption), its media (a photo's largest size, a document, audio, voice, video, sticker) named
``telegram-file:<file_id>``, a location or venue, a shared contact (a ``text/vcard`` item, as
WhatsApp contacts arrive over Twilio), the message it replies to and whether it was forwarded.
A ``callback_query`` (a tap on an inline button) becomes an :class:`InteractiveReply` of kind
``button``: ``id`` is the button's ``callback_data``, ``title`` its text. Other kinds of update
are not messages (``message`` is ``None``), except ``my_chat_member`` in a private chat: the
person blocking the bot is an opt-out (``opt_out_type`` ``stop``), unblocking it an opt-in.
Malformed updates raise :class:`InvalidInput` naming the field, never its value.

The person's address is the chat's id (as a string): replies go to the chat. In a group that
is the group's id. The recipient is the bot, by its numeric id (see
:attr:`~walker_channels.telegram.TelegramConfig.bot_address`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

from pydantic import ValidationError

from walker_channels.exceptions import InvalidInput
from walker_channels.models import (
    Address,
    ConsentAction,
    InboundMessage,
    InteractiveKind,
    InteractiveReply,
    Location,
    Media,
    ReplyTo,
)
from walker_channels.storable import is_storable, json_strings, storable_json
from walker_channels.telegram import api_objects as api
from walker_channels.telegram.config import TELEGRAM
from walker_channels.telegram.wire import file_url

MESSAGE_KINDS = ("message", "edited_message")
"""Update fields that carry a person's message."""
# File-carrying fields of a Message, with the content type when Telegram gives no mime_type.
FILE_KINDS = {
    "document": "application/octet-stream",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "video_note": "video/mp4",
    "animation": "video/mp4",
    "sticker": "image/webp",
}
PHOTO_TYPE = "image/jpeg"  # Telegram re-encodes every photo as JPEG


@dataclass(frozen=True)
class ParsedUpdate:
    """One update: its id and kind, the message it carries (``None`` for other kinds), and
    the id of the callback query to answer (a button tap)."""

    update_id: int
    kind: str
    message: InboundMessage | None = None
    callback_query_id: str | None = None


def message_id_of(bot_id: str, update_id: int) -> str:
    """The provider message id of an update: ``update_id`` is unique per bot only."""
    return f"tg:{bot_id}:{update_id}"


def parse_update(body: bytes, *, bot_id: str, received_at: datetime) -> ParsedUpdate:
    """The :class:`ParsedUpdate` of a webhook body sent to the bot ``bot_id``."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    update = _json_object(body)
    update_id = update.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int) or update_id < 0:
        raise InvalidInput("update_id is missing or not a whole number: is this a Telegram update?")
    # Exactly one optional field beside update_id says what kind of update it is.
    kind = next((name for name in update if name != "update_id"), "")
    if kind == "callback_query":
        return _callback_update(update, update_id, bot_id, received_at, body)
    if kind == "my_chat_member":
        change = _model(api.ChatMemberUpdated, update[kind], kind)
        consent = _consent_change(change, bot_id, update_id, received_at, body)
        return ParsedUpdate(update_id=update_id, kind=kind, message=consent)
    if kind not in MESSAGE_KINDS:
        return ParsedUpdate(update_id=update_id, kind=kind)
    found = _model(api.Message, update[kind], kind)
    message = _inbound(found, bot_id, update_id, received_at, body)
    return ParsedUpdate(update_id=update_id, kind=kind, message=message)


def _json_object(body: bytes) -> dict[str, object]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise InvalidInput("the body is not JSON: Telegram sends an Update object") from None
    if not isinstance(document, dict):
        raise InvalidInput("the body is not a JSON object: Telegram sends an Update object")
    if all(is_storable(text) for text in json_strings(document)):
        return document
    # A NUL or lone surrogate (JSON's \u0000, \ud800) no store can hold: keep the message.
    cleaned: dict[str, object] = storable_json(document)
    return cleaned


M = TypeVar("M", bound=api.ApiObject)


def _model(model: type[M], value: object, where: str) -> M:
    try:
        return model.model_validate(value)
    except RecursionError:
        raise InvalidInput(f"{where} nests too deeply") from None
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        path = ".".join(str(part) for part in (where, *first["loc"]))
        raise InvalidInput(f"{path} is missing or not valid") from None


def _inbound(
    message: api.Message, bot_id: str, update_id: int, received_at: datetime, body: bytes
) -> InboundMessage | None:
    media = _media(message)
    location = _location(message)
    if message.text is None and message.caption is None and not media and location is None:
        return None  # a service message (members joined, a pin) or a kind we do not read
    return InboundMessage(
        channel=TELEGRAM,
        provider_message_id=message_id_of(bot_id, update_id),
        sender=Address(channel=TELEGRAM, value=str(message.chat.id)),
        recipient=Address(channel=TELEGRAM, value=bot_id),
        text=message.text or message.caption or "",
        media=media,
        location=location,
        reply_to=_reply_to(message.reply_to_message),
        forwarded=message.forward_origin is not None or message.forward_date is not None,
        profile_name=_name(message.sender),
        received_at=received_at,
        raw={"update": body.decode("utf-8", "replace")},
    )


def _callback_update(
    update: dict[str, object], update_id: int, bot_id: str, received_at: datetime, body: bytes
) -> ParsedUpdate:
    query = _model(api.CallbackQuery, update["callback_query"], "callback_query")
    parsed = ParsedUpdate(update_id=update_id, kind="callback_query", callback_query_id=query.id)
    if query.data is None:
        return parsed  # a game's button: nothing the agent can act on
    chat = query.message.chat.id if query.message is not None else query.sender.id
    title = _button_text(query.message, query.data)
    tapped = InboundMessage(
        channel=TELEGRAM,
        provider_message_id=message_id_of(bot_id, update_id),
        sender=Address(channel=TELEGRAM, value=str(chat)),
        recipient=Address(channel=TELEGRAM, value=bot_id),
        text=title or "",
        interactive=InteractiveReply(kind=InteractiveKind.BUTTON, id=query.data, title=title),
        reply_to=_reply_to(query.message),
        profile_name=_name(query.sender),
        received_at=received_at,
        raw={"update": body.decode("utf-8", "replace")},
    )
    return ParsedUpdate(
        update_id=update_id, kind="callback_query", message=tapped, callback_query_id=query.id
    )


def _consent_change(
    change: api.ChatMemberUpdated, bot_id: str, update_id: int, received_at: datetime, body: bytes
) -> InboundMessage | None:
    """A person blocking the bot as an opt-out, unblocking it as an opt-in (Telegram's own
    reading, like Twilio's ``OptOutType``); ``None`` for any other change of membership."""
    if change.chat.type != "private":
        return None  # in a group, "kicked" is an admin removing the bot, not a person's choice
    old, new = change.old_chat_member.status, change.new_chat_member.status
    if new == "kicked":
        action = ConsentAction.STOP
    elif old == "kicked" and new == "member":
        action = ConsentAction.START
    else:
        return None
    return InboundMessage(
        channel=TELEGRAM,
        provider_message_id=message_id_of(bot_id, update_id),
        sender=Address(channel=TELEGRAM, value=str(change.chat.id)),
        recipient=Address(channel=TELEGRAM, value=bot_id),
        opt_out_type=action,
        profile_name=_name(change.sender),
        received_at=received_at,
        raw={"update": body.decode("utf-8", "replace")},
    )


def _media(message: api.Message) -> tuple[Media, ...]:
    items: list[Media] = []
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        items.append(Media(url=file_url(largest.file_id), content_type=PHOTO_TYPE))
    for kind, default_type in FILE_KINDS.items():
        found: api.File | None = getattr(message, kind)
        if found is not None:
            content_type = found.mime_type or default_type
            items.append(Media(url=file_url(found.file_id), content_type=content_type))
    if message.contact is not None:
        items.append(_vcard(message.contact))
    return tuple(items)


def _vcard(contact: api.Contact) -> Media:
    card = contact.vcard or "\r\n".join(
        (
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"N:{contact.last_name or ''};{contact.first_name};;;",
            f"FN:{' '.join(filter(None, (contact.first_name, contact.last_name)))}",
            f"TEL;TYPE=CELL:{contact.phone_number}",
            "END:VCARD",
        )
    )
    return Media(url="data:text/vcard;charset=utf-8," + quote(card), content_type="text/vcard")


def _location(message: api.Message) -> Location | None:
    if message.venue is not None:
        place = message.venue
        return Location(
            latitude=place.location.latitude,
            longitude=place.location.longitude,
            address=place.address or None,
            label=place.title or None,
        )
    found = message.location
    return None if found is None else Location(latitude=found.latitude, longitude=found.longitude)


def _reply_to(quoted: api.Message | None) -> ReplyTo | None:
    """The quoted message by its id in the chat; its author is the bot (by the bot's id) or
    the person (by their user id, their private chat's id)."""
    if quoted is None:
        return None
    author = quoted.sender
    sender = None if author is None else Address(channel=TELEGRAM, value=str(author.id))
    return ReplyTo(message_id=str(quoted.message_id), sender=sender)


def _button_text(message: api.Message | None, data: str) -> str | None:
    """The text of the inline button whose ``callback_data`` is ``data``, if it is shown."""
    markup = message.reply_markup if message is not None else None
    rows = markup.get("inline_keyboard") if markup is not None else None
    for row in rows if isinstance(rows, list) else ():
        for button in row if isinstance(row, list) else ():
            if isinstance(button, dict) and button.get("callback_data") == data:
                text = button.get("text")
                return text if isinstance(text, str) and text else None
    return None


def _name(user: api.User | None) -> str | None:
    if user is None:
        return None
    return " ".join(filter(None, (user.first_name, user.last_name))) or None
