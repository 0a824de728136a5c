"""Twilio's messaging webhooks as domain objects. Pure: no I/O, the time is an argument.

Check the signature first (:func:`walker_channels.signatures.verify_twilio_signature`), then
parse. Both parsers return a domain object or raise
:class:`~walker_channels.exceptions.InvalidInput` (a subclass for bad phone numbers) with a
message that names the field to fix and never repeats its value.

Addresses are read leniently (:func:`~walker_channels.phones.parse_inbound_address`): what
Twilio signed is accepted when it is a possible number or a WhatsApp business-scoped user id,
because Twilio does not retry a refused (4xx) webhook and the message would be lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from walker_channels.exceptions import InvalidInput, InvalidPhoneNumber
from walker_channels.models import (
    Address,
    Channel,
    ConsentAction,
    DeliveryUpdate,
    InboundMessage,
    InteractiveKind,
    InteractiveReply,
    Location,
    Media,
    Referral,
    ReplyTo,
)
from walker_channels.phones import WHATSAPP_PREFIX, parse_inbound_address
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
from walker_channels.twilio.whatsapp import WhatsAppDetails, whatsapp_details

_MEDIA_URL = re.compile(r"MediaUrl(0|[1-9][0-9]{0,2})")

# Click-to-WhatsApp ad fields, by Referral attribute. ReferralNumMedia ("0") comes with every
# WhatsApp message, so it alone does not make a referral.
_REFERRAL_FIELDS = {
    "source_id": "ReferralSourceId",
    "source_type": "ReferralSourceType",
    "source_url": "ReferralSourceUrl",
    "headline": "ReferralHeadline",
    "body": "ReferralBody",
    "media_id": "ReferralMediaId",
    "media_content_type": "ReferralMediaContentType",
    "media_url": "ReferralMediaUrl",
    "ctwa_clid": "ReferralCtwaClid",
}


def parse_inbound_form(form: Mapping[str, FormValue], *, received_at: datetime) -> InboundMessage:
    """The :class:`InboundMessage` of Twilio's incoming-message webhook form.

    The channel is WhatsApp when ``From``/``To`` carry the ``whatsapp:`` prefix, else SMS.
    The WhatsApp parts (location, tapped button or list item, ad referral, quoted message,
    forward flags) are typed on the message; every field, unknown ones too, is kept in ``raw``.
    Advanced Opt-Out's ``OptOutType`` (``STOP``, ``START``, ``HELP``) becomes ``opt_out_type``.
    """
    _require_aware(received_at)
    raw = raw_form(form)
    sid = message_sid(raw)
    sender, recipient = _address(raw, "From"), _address(raw, "To")
    if sender.channel is not recipient.channel:
        raise InvalidInput("From and To must both be whatsapp: addresses or both phone numbers")
    details = whatsapp_details(raw)
    return InboundMessage(
        channel=sender.channel,
        provider_message_id=sid,
        sender=sender,
        recipient=recipient,
        text=single(raw, "Body") or "",
        media=_media(raw),
        location=_location(details),
        interactive=_interactive(raw, details),
        referral=_referral(raw),
        reply_to=_reply_to(raw),
        forwarded=details.forwarded or details.frequently_forwarded,
        frequently_forwarded=details.frequently_forwarded,
        profile_name=single(raw, "ProfileName") or None,
        received_at=received_at,
        raw=raw,
        opt_out_type=_opt_out_type(raw),
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


def _opt_out_type(raw: RawForm) -> ConsentAction | None:
    # Advanced Opt-Out sends STOP, START or HELP; a value Twilio adds later is no keyword
    # of ours, and refusing the message for it would lose it (Twilio does not retry a 4xx).
    value = (single(raw, "OptOutType") or "").strip().upper()
    return _OPT_OUT_TYPES.get(value)


_OPT_OUT_TYPES = {
    "STOP": ConsentAction.STOP,
    "START": ConsentAction.START,
    "HELP": ConsentAction.HELP,
}


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")


def _address(raw: RawForm, name: str) -> Address:
    # parse_inbound_address raises InvalidPhoneNumber without repeating the number.
    return parse_inbound_address(required(raw, name))


def _text(raw: RawForm, name: str) -> str | None:
    return single(raw, name) or None


def _location(details: WhatsAppDetails) -> Location | None:
    # whatsapp_details has checked the coordinates; the domain has its own Location model.
    found = details.location
    return None if found is None else Location.model_validate(found.model_dump())


def _interactive(raw: RawForm, details: WhatsAppDetails) -> InteractiveReply | None:
    list_id, list_title = _text(raw, "ListId"), _text(raw, "ListTitle")
    if list_id or list_title:
        return InteractiveReply(kind=InteractiveKind.LIST, id=list_id, title=list_title)
    if details.button_payload or details.button_text:
        return InteractiveReply(
            kind=InteractiveKind.BUTTON, id=details.button_payload, title=details.button_text
        )
    return None


def _referral(raw: RawForm) -> Referral | None:
    fields = {attribute: _text(raw, name) for attribute, name in _REFERRAL_FIELDS.items()}
    if not any(fields.values()):
        return None
    count = (single(raw, "ReferralNumMedia") or "").strip()
    # An advisory count: a malformed one is not worth refusing (and losing) the message.
    num_media = int(count) if count.isascii() and count.isdigit() and len(count) <= 3 else 0
    return Referral.model_validate({**fields, "num_media": num_media})


def _reply_to(raw: RawForm) -> ReplyTo | None:
    sid = _text(raw, "OriginalRepliedMessageSid")
    if sid is None:
        return None
    return ReplyTo(message_id=sid, sender=_optional_address(raw, "OriginalRepliedMessageSender"))


def _optional_address(raw: RawForm, name: str) -> Address | None:
    value = _text(raw, name)
    if value is None:
        return None
    try:
        return parse_inbound_address(value)
    except InvalidPhoneNumber:
        return None  # who wrote the quoted message is a detail; the message still counts


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
