"""One message object of a Meta webhook as the structured content of an InboundMessage.

Pure. Every type Meta documents is read: ``text``; ``image``, ``audio``, ``video``,
``document`` and ``sticker`` (their media id, as the Graph API URL of the media object, with
the MIME type; a caption becomes the text); ``location``; ``contacts`` (one line per contact,
its name and numbers, as the text); ``interactive`` (``button_reply`` and ``list_reply``) and
``button`` (a template's quick reply) as :class:`InteractiveReply`; ``reaction`` (the emoji as
the text, the reacted message as ``reply_to``). Anything else (``unsupported``, ``system``,
types Meta adds later) keeps an empty text; ``raw`` holds every field, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from walker_channels.exceptions import InvalidInput
from walker_channels.models import (
    InteractiveKind,
    InteractiveReply,
    Location,
    Media,
    Referral,
    ReplyTo,
)

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
"""Message types that carry one media object by id."""

JsonObject = Mapping[str, Any]
MediaUrl = Callable[[str], str]
"""The URL an inbound media id is read from (the Graph API's media object)."""


def message_parts(message: JsonObject, media_url: MediaUrl) -> dict[str, object]:
    """The :class:`~walker_channels.models.InboundMessage` fields of one ``messages[]`` item
    (text, media and the structured parts); raises :class:`InvalidInput` for a bad shape."""
    kind = message.get("type")
    parts: dict[str, object] = {"text": ""}
    if kind == "text":
        parts["text"] = _string(_object(message, "text"), "body", "text.body") or ""
    elif kind in MEDIA_TYPES:
        assert isinstance(kind, str)
        parts |= _media(_object(message, kind), kind, media_url)
    elif kind == "location":
        parts["location"] = _location(_object(message, "location"))
    elif kind == "contacts":
        parts["text"] = _contacts(message.get("contacts"))
    elif kind == "interactive":
        parts["interactive"] = _interactive(_object(message, "interactive"))
    elif kind == "button":
        button = _object(message, "button")
        payload, text = _string(button, "payload"), _string(button, "text")
        parts["interactive"] = _reply(InteractiveKind.BUTTON, payload, text)
        parts["text"] = text or ""
    elif kind == "reaction":
        reaction = _object(message, "reaction")
        parts["text"] = _string(reaction, "emoji") or ""
        reacted = _string(reaction, "message_id")
        if reacted:
            parts["reply_to"] = ReplyTo(message_id=reacted)
    if isinstance(parts.get("interactive"), InteractiveReply) and not parts["text"]:
        reply = parts["interactive"]
        assert isinstance(reply, InteractiveReply)
        parts["text"] = reply.title or ""
    parts |= _context(message.get("context"))
    referral = message.get("referral")
    if isinstance(referral, Mapping):
        parts["referral"] = _referral(referral)
    return parts


def _object(parent: JsonObject, name: str) -> JsonObject:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise InvalidInput(f"a {parent.get('type')} message needs a {name} object")
    return value


def _string(parent: JsonObject, name: str, path: str | None = None) -> str | None:
    value = parent.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{path or name} must be a string")
    return str(value)


def _media(content: JsonObject, kind: str, media_url: MediaUrl) -> dict[str, object]:
    media_id = _string(content, "id", f"{kind}.id")
    if not media_id or not media_id.isalnum():
        raise InvalidInput(f"{kind}.id must be Meta's media id")
    item = Media(url=media_url(media_id), content_type=_string(content, "mime_type") or None)
    return {"media": (item,), "text": _string(content, "caption") or ""}


def _location(content: JsonObject) -> Location:
    latitude, longitude = _number(content, "latitude"), _number(content, "longitude")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput("location.latitude or location.longitude is out of range")
    return Location(
        latitude=latitude,
        longitude=longitude,
        address=_string(content, "address") or None,
        label=_string(content, "name") or None,
    )


def _number(content: JsonObject, name: str) -> float:
    value = content.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"location.{name} must be a number")
    return float(value)


def _contacts(value: object) -> str:
    if not isinstance(value, list) or not value:
        raise InvalidInput("a contacts message needs a non-empty contacts list")
    lines = []
    for contact in value:
        if not isinstance(contact, Mapping):
            raise InvalidInput("each shared contact must be an object")
        name = contact.get("name")
        formatted = _string(name, "formatted_name") if isinstance(name, Mapping) else None
        phones = contact.get("phones")
        numbers = [
            number
            for phone in (phones if isinstance(phones, list) else [])
            if isinstance(phone, Mapping) and (number := _string(phone, "phone"))
        ]
        lines.append(": ".join(part for part in (formatted, ", ".join(numbers)) if part))
    return "\n".join(line for line in lines if line)


def _interactive(content: JsonObject) -> InteractiveReply | None:
    kind = content.get("type")
    if kind not in ("button_reply", "list_reply"):
        return None  # nfm_reply (flows) and later kinds: raw keeps them
    assert isinstance(kind, str)
    reply = _object(content, kind)
    choice = InteractiveKind.BUTTON if kind == "button_reply" else InteractiveKind.LIST
    return _reply(choice, _string(reply, "id"), _string(reply, "title"))


def _reply(kind: InteractiveKind, choice_id: str | None, title: str | None) -> InteractiveReply:
    if not choice_id and not title:
        raise InvalidInput(f"a {kind.value} reply needs the choice's id or its title")
    return InteractiveReply(kind=kind, id=choice_id or None, title=title or None)


def _context(value: object) -> dict[str, object]:
    if not isinstance(value, Mapping):
        return {}
    frequently = value.get("frequently_forwarded") is True
    parts: dict[str, object] = {
        "forwarded": value.get("forwarded") is True or frequently,
        "frequently_forwarded": frequently,
    }
    quoted = _string(value, "id", "context.id")
    if quoted:
        parts["reply_to"] = ReplyTo(message_id=quoted)
    return parts


def _referral(value: JsonObject) -> Referral:
    media_type = _string(value, "media_type")
    media_key = f"{media_type}_url" if media_type in ("image", "video") else None
    media = _string(value, media_key) if media_key else None
    return Referral(
        source_id=_string(value, "source_id") or None,
        source_type=_string(value, "source_type") or None,
        source_url=_string(value, "source_url") or None,
        headline=_string(value, "headline") or None,
        body=_string(value, "body") or None,
        media_url=media or None,
        num_media=1 if media else 0,
        ctwa_clid=_string(value, "ctwa_clid") or None,
    )
