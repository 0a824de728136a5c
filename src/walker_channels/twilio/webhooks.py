"""Twilio's messaging webhooks as domain objects. Pure: no I/O, the time is an argument.

Check the signature first (:func:`walker_channels.signatures.verify_twilio_signature`), then
parse. Both parsers return a domain object or raise
:class:`~walker_channels.exceptions.InvalidInput` (a subclass for bad phone numbers) with a
message that names the field to fix and never repeats its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from walker_channels.exceptions import InvalidInput
from walker_channels.models import Address, Channel, DeliveryUpdate, InboundMessage, Media
from walker_channels.phones import WHATSAPP_PREFIX, parse_address
from walker_channels.twilio.forms import (
    FormValue,
    RawForm,
    is_http_url,
    message_sid,
    raw_form,
    required,
    single,
)
from walker_channels.twilio.limits import MAX_MEDIA
from walker_channels.twilio.statuses import delivery_status
from walker_channels.twilio.whatsapp import whatsapp_details

_MEDIA_URL = re.compile(r"MediaUrl(0|[1-9][0-9]{0,2})")


def parse_inbound_form(form: Mapping[str, FormValue], *, received_at: datetime) -> InboundMessage:
    """The :class:`InboundMessage` of Twilio's incoming-message webhook form.

    The channel is WhatsApp when ``From``/``To`` carry the ``whatsapp:`` prefix, else SMS.
    Every field, unknown ones too, is kept in ``raw``; the WhatsApp extras (buttons, location,
    ``WaId``) are checked here and read with
    :func:`~walker_channels.twilio.whatsapp_details`.
    """
    _require_aware(received_at)
    raw = raw_form(form)
    sid = message_sid(raw)
    sender, recipient = _address(raw, "From"), _address(raw, "To")
    if sender.channel is not recipient.channel:
        raise InvalidInput("From and To must both be whatsapp: addresses or both phone numbers")
    whatsapp_details(raw)
    return InboundMessage(
        channel=sender.channel,
        provider_message_id=sid,
        sender=sender,
        recipient=recipient,
        text=single(raw, "Body") or "",
        media=_media(raw),
        profile_name=single(raw, "ProfileName") or None,
        received_at=received_at,
        raw=raw,
    )


def parse_status_callback(
    form: Mapping[str, FormValue], *, received_at: datetime, ledger_key: str | None = None
) -> DeliveryUpdate:
    """The :class:`DeliveryUpdate` of a Twilio status callback form.

    ``MessageStatus`` values Twilio adds later map to ``DeliveryStatus.UNKNOWN`` rather than
    failing. ``ledger_key`` is our key from the callback URL's query
    (:data:`~walker_channels.twilio.LEDGER_KEY_PARAM`), when it has one.
    """
    _require_aware(received_at)
    raw = raw_form(form)
    sid = message_sid(raw)
    status = single(raw, "MessageStatus") or single(raw, "SmsStatus")
    if not status:
        raise InvalidInput("MessageStatus is missing: is this a Twilio status callback?")
    return DeliveryUpdate(
        channel=_callback_channel(raw),
        provider_message_id=sid,
        status=delivery_status(status),
        error_code=_error_code(raw),
        ledger_key=ledger_key or None,
        occurred_at=received_at,
        raw=raw,
    )


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")


def _address(raw: RawForm, name: str) -> Address:
    # parse_address raises InvalidPhoneNumber without repeating the number.
    return parse_address(required(raw, name))


def _media(raw: RawForm) -> tuple[Media, ...]:
    indexes = sorted(int(m.group(1)) for name in raw if (m := _MEDIA_URL.fullmatch(name)))
    count = _media_count(raw, default=len(indexes))
    if indexes != list(range(count)):
        raise InvalidInput(
            f"NumMedia is {count} but the MediaUrl fields do not run from MediaUrl0 to "
            f"MediaUrl{count - 1}"
            if count
            else "NumMedia is 0 but MediaUrl fields were sent"
        )
    return tuple(_media_item(raw, index) for index in range(count))


def _media_count(raw: RawForm, *, default: int) -> int:
    text = single(raw, "NumMedia")
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_MEDIA:
        raise InvalidInput(f"NumMedia must be a whole number from 0 to {MAX_MEDIA}")
    return int(text)


def _media_item(raw: RawForm, index: int) -> Media:
    url = required(raw, f"MediaUrl{index}")
    if not is_http_url(url):
        raise InvalidInput(f"MediaUrl{index} must be an absolute http(s) URL")
    content_type = single(raw, f"MediaContentType{index}")
    return Media(url=url, content_type=content_type or None)


def _callback_channel(raw: RawForm) -> Channel:
    addresses = (single(raw, "From") or "", single(raw, "To") or "")
    if any(a.strip().startswith(WHATSAPP_PREFIX) for a in addresses):
        return Channel.WHATSAPP
    prefix = (single(raw, "ChannelPrefix") or "").strip().lower()
    return Channel.WHATSAPP if prefix == WHATSAPP_PREFIX.rstrip(":") else Channel.SMS


def _error_code(raw: RawForm) -> str | None:
    code = (single(raw, "ErrorCode") or "").strip()
    if not code:
        return None
    if not (code.isascii() and code.isdigit() and len(code) <= 9):
        raise InvalidInput("ErrorCode must be a Twilio error number (digits)")
    return code
