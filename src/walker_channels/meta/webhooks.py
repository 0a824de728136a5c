"""Meta's ``messages`` webhook as domain objects. Pure: no I/O, the time is an argument.

Verify the signature first (:func:`~walker_channels.meta.signature.verify_signature`), then
:func:`parse_notification`. One notification may carry several entries, each several
changes, each several messages and statuses: every one is read. Changes of other fields
(template reviews, account updates) and other objects are ignored, not refused, so Meta does
not redeliver them for days. A body that is not the documented shape raises
:class:`~walker_channels.exceptions.InvalidInput` naming the field, never its value.

Addresses: the person is ``+`` and their ``wa_id`` (``from``), kept as sent when it is not a
number (a business-scoped user id); the business is its **phone number id**
(``metadata.phone_number_id``), which is what tenants map (``TenantRegistry.add_number``)
and what a reply is sent from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from walker_channels.exceptions import InvalidInput
from walker_channels.meta.config import META_WHATSAPP, is_phone_number_id
from walker_channels.meta.content import JsonObject, MediaUrl, message_parts
from walker_channels.models import Address, DeliveryStatus, DeliveryUpdate, InboundMessage
from walker_channels.storable import storable_json

STATUSES: Mapping[str, DeliveryStatus] = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
"""Meta's status values; others (``deleted``, ``warning``, later ones) are ``UNKNOWN``."""

_WA_ID = re.compile(r"[0-9]{4,20}")
_USER_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_MESSAGE_ID = re.compile(r"[!-~]{1,256}")
_MAX_RAW_FIELDS = 200


def parse_notification(
    body: bytes, *, received_at: datetime, media_url: MediaUrl
) -> tuple[tuple[InboundMessage, ...], tuple[DeliveryUpdate, ...]]:
    """Every message and delivery status of one webhook POST body (raw JSON bytes)."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    try:
        # A person's text keeps its NULs and lone surrogates as U+FFFD (no store holds them);
        # an id with one no longer matches its pattern and is refused.
        document = storable_json(json.loads(body))
    except (ValueError, RecursionError):
        raise InvalidInput("the body is not JSON") from None
    if not isinstance(document, Mapping):
        raise InvalidInput("the body must be a JSON object")
    if document.get("object") != "whatsapp_business_account":
        return (), ()
    messages: list[InboundMessage] = []
    statuses: list[DeliveryUpdate] = []
    for change in _changes(document):
        if change.get("field") != "messages":
            continue
        value = change.get("value")
        if not isinstance(value, Mapping):
            raise InvalidInput("entry[].changes[].value must be an object")
        business = _business(value)
        names = _profile_names(value.get("contacts"))
        for item in _list(value, "messages"):
            messages.append(_inbound(item, business, names, received_at, media_url))
        for item in _list(value, "statuses"):
            statuses.append(_status(item, received_at))
    return tuple(messages), tuple(statuses)


def _changes(document: JsonObject) -> list[JsonObject]:
    changes: list[JsonObject] = []
    for entry in _list(document, "entry"):
        changes.extend(_list(entry, "changes"))
    return changes


def _list(parent: JsonObject, name: str) -> list[JsonObject]:
    value = parent.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise InvalidInput(f"{name} must be a list of objects")
    return value


def _business(value: JsonObject) -> Address:
    metadata = value.get("metadata")
    number_id = metadata.get("phone_number_id") if isinstance(metadata, Mapping) else None
    if not isinstance(number_id, str) or not is_phone_number_id(number_id):
        raise InvalidInput("metadata.phone_number_id must be the business's phone number id")
    return Address(channel=META_WHATSAPP, value=number_id)


def _profile_names(contacts: object) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in contacts if isinstance(contacts, list) else []:
        profile = contact.get("profile") if isinstance(contact, Mapping) else None
        name = profile.get("name") if isinstance(profile, Mapping) else None
        wa_id = contact.get("wa_id") if isinstance(contact, Mapping) else None
        if isinstance(wa_id, str) and isinstance(name, str) and name:
            names[wa_id] = name
    return names


def person(wa_id: object, field: str = "from") -> Address:
    """The person's address: ``+`` and the WhatsApp id, or an opaque user id as sent."""
    if not isinstance(wa_id, str):
        raise InvalidInput(f"{field} must be the person's WhatsApp id")
    if _WA_ID.fullmatch(wa_id):
        return Address(channel=META_WHATSAPP, value=f"+{wa_id}")
    if _USER_ID.fullmatch(wa_id) and not wa_id.isdigit():
        return Address(channel=META_WHATSAPP, value=wa_id)
    raise InvalidInput(f"{field} is not a WhatsApp id")


def _message_id(item: JsonObject) -> str:
    wamid = item.get("id")
    if not isinstance(wamid, str) or not _MESSAGE_ID.fullmatch(wamid):
        raise InvalidInput("each message and status needs its id (the wamid)")
    return wamid


def _inbound(
    item: JsonObject,
    business: Address,
    names: Mapping[str, str],
    received_at: datetime,
    media_url: MediaUrl,
) -> InboundMessage:
    wamid = _message_id(item)
    sender = item.get("from")
    parts = message_parts(item, media_url)
    return InboundMessage.model_validate(
        {
            **parts,
            "channel": META_WHATSAPP,
            "provider_message_id": wamid,
            "sender": person(sender),
            "recipient": business,
            "profile_name": names.get(sender) if isinstance(sender, str) else None,
            "received_at": received_at,
            "raw": {"phone_number_id": business.value, **flatten(item)},
        }
    )


def _status(item: JsonObject, received_at: datetime) -> DeliveryUpdate:
    wamid = _message_id(item)
    status = item.get("status")
    if not isinstance(status, str):
        raise InvalidInput("statuses[].status is missing")
    errors = item.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, Mapping) else None
    opaque = item.get("biz_opaque_callback_data")
    return DeliveryUpdate(
        channel=META_WHATSAPP,
        provider_message_id=wamid,
        status=STATUSES.get(status, DeliveryStatus.UNKNOWN),
        error_code=str(code) if isinstance(code, int) and not isinstance(code, bool) else None,
        ledger_key=opaque if isinstance(opaque, str) and opaque else None,
        # When we heard of it, as for Twilio: Meta's timestamp (kept in raw) has only
        # seconds, which would order a status before the message it answers.
        occurred_at=received_at,
        raw=flatten(item),
    )


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A JSON object as ``{"a.b.0.c": "text"}``: every scalar, by its path (at most 200)."""
    flat: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack and len(flat) < _MAX_RAW_FIELDS:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            stack.extend((f"{path}.{key}" if path else str(key), v) for key, v in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}.{index}", v) for index, v in enumerate(node))
        elif node is not None:
            flat[path] = json.dumps(node) if isinstance(node, bool) else str(node)
    return dict(sorted(flat.items()))
