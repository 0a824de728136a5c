"""The WhatsApp-only fields of Twilio's inbound webhook, typed.

They do not fit :class:`~walker_channels.InboundMessage` (which is channel-neutral) and stay in
its ``raw``; :func:`whatsapp_details` reads them back as a typed model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pydantic import Field

from walker_channels.exceptions import InvalidInput, InvalidPhoneNumber
from walker_channels.models.base import Frozen
from walker_channels.twilio.forms import RawForm, raw_form, single

_REFERRAL_PREFIX = "Referral"


class Location(Frozen):
    """A location the person shared."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: str | None = None
    label: str | None = None


class WhatsAppDetails(Frozen):
    """WhatsApp extras of an inbound message: buttons, location, replies, forwards, ad referral."""

    wa_id: str | None = Field(default=None, repr=False)
    """The sender's WhatsApp id: their number as digits, without ``+``."""
    message_type: str | None = None
    """Twilio's ``MessageType``: ``text``, ``image``, ``button``, ``location``, ..."""
    button_text: str | None = None
    button_payload: str | None = None
    location: Location | None = Field(default=None, repr=False)
    replied_to_message_id: str | None = None
    """``OriginalRepliedMessageSid``: the message this one answers."""
    forwarded: bool = False
    frequently_forwarded: bool = False
    referral: Mapping[str, str] = Field(default_factory=dict, repr=False)
    """The click-to-WhatsApp ad fields (``ReferralSourceUrl``, ...), by their Twilio names."""


def whatsapp_details(raw: Mapping[str, str | tuple[str, ...]]) -> WhatsAppDetails:
    """The typed WhatsApp fields of an inbound form (e.g. ``InboundMessage.raw``).

    Raises :class:`~walker_channels.exceptions.InvalidInput` for a malformed ``WaId`` or
    location; absent fields are ``None``/``False``.
    """
    form = raw_form(raw)
    return WhatsAppDetails(
        wa_id=_wa_id(form),
        message_type=single(form, "MessageType") or None,
        button_text=single(form, "ButtonText") or None,
        button_payload=single(form, "ButtonPayload") or None,
        location=_location(form),
        replied_to_message_id=single(form, "OriginalRepliedMessageSid") or None,
        forwarded=_flag(form, "Forwarded"),
        frequently_forwarded=_flag(form, "FrequentlyForwarded"),
        referral={
            name: value
            for name, value in form.items()
            if name.startswith(_REFERRAL_PREFIX) and isinstance(value, str)
        },
    )


def _wa_id(form: RawForm) -> str | None:
    value = single(form, "WaId")
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 15):
        raise InvalidPhoneNumber("WaId must be the sender's number as up to 15 digits, no +")
    return value


def _location(form: RawForm) -> Location | None:
    latitude, longitude = single(form, "Latitude"), single(form, "Longitude")
    if not latitude and not longitude:
        return None
    lat, lon = _coordinate(latitude, "Latitude", 90), _coordinate(longitude, "Longitude", 180)
    return Location(
        latitude=lat,
        longitude=lon,
        address=single(form, "Address") or None,
        label=single(form, "Label") or None,
    )


def _coordinate(value: str | None, name: str, bound: float) -> float:
    try:
        number = float(value or "")
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or abs(number) > bound:
        raise InvalidInput(f"{name} must be a number from -{bound:g} to {bound:g}")
    return number


def _flag(form: RawForm, name: str) -> bool:
    return (single(form, name) or "").strip().lower() == "true"
