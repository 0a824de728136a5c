"""Phone numbers: parse, validate and format with ``phonenumbers``; Twilio's channel prefixes.

Error messages never repeat the number, so they are safe to log and return.
"""

from __future__ import annotations

import phonenumbers

from walker_channels.exceptions import InvalidPhoneNumber
from walker_channels.models import Address, Channel

WHATSAPP_PREFIX = "whatsapp:"


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """``raw`` as an E.164 number (``+14155552671``); raises :class:`InvalidPhoneNumber`.

    A ``whatsapp:`` prefix is ignored. Without a leading ``+`` a ``default_region`` (ISO code
    such as ``"GB"``) is needed.
    """
    text = raw.strip().removeprefix(WHATSAPP_PREFIX).strip()
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("not a phone number (use E.164, e.g. +14155552671)") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_address(raw: str, *, default_region: str | None = None) -> Address:
    """A Twilio address (``whatsapp:+E164`` or ``+E164``) as a WhatsApp or SMS :class:`Address`."""
    channel = Channel.WHATSAPP if raw.strip().startswith(WHATSAPP_PREFIX) else Channel.SMS
    return Address(channel=channel, value=normalize_phone(raw, default_region))


def phone_address(raw: str, channel: Channel, *, default_region: str | None = None) -> Address:
    """An :class:`Address` on ``channel`` (WhatsApp or SMS) for the number ``raw``."""
    if channel is Channel.EMAIL:
        raise ValueError("phone addresses are for WhatsApp and SMS")
    return Address(channel=channel, value=normalize_phone(raw, default_region))


def phone_from_wa_id(wa_id: str) -> str:
    """The E.164 number of a WhatsApp id (digits without ``+``, as in Twilio's ``WaId``)."""
    if not wa_id.isdigit():
        raise InvalidPhoneNumber("a WhatsApp id is digits only")
    return normalize_phone("+" + wa_id)
