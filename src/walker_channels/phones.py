"""Phone numbers: parse, validate and format with ``phonenumbers``; Twilio's channel prefixes.

Two levels of checking, for two sources. A number a person types (a send endpoint, a proactive
send) must be *valid* by ``phonenumbers``' metadata: :func:`normalize_phone`,
:func:`phone_address`. An address Twilio sends in a signed webhook is accepted when it is a
*possible* number (right length for its country: fictional 555 numbers, drama ranges and ranges
newer than the metadata included) or a WhatsApp business-scoped user id:
:func:`inbound_identifier`, :func:`parse_inbound_address`. Refusing those would lose the
message, as Twilio does not retry a 4xx.

Error messages never repeat the number, so they are safe to log and return.
"""

from __future__ import annotations

import re

import phonenumbers

from walker_channels.exceptions import InvalidPhoneNumber
from walker_channels.models import Address, Channel

WHATSAPP_PREFIX = "whatsapp:"

# Meta's business-scoped user ids (BSUIDs), as Twilio writes them after "whatsapp:" in From
# and ExternalUserId: the user's country code, a dot, then an alphanumeric id
# ("US.13491208655302741918"); a parent id has one more segment ("HK.ENT.…"). Anything else
# that is not a number is refused.
_BUSINESS_SCOPED_ID = re.compile(r"[A-Z]{2}(?:\.[A-Za-z0-9]{1,64}){1,2}")
_SHORT_CODE = re.compile(r"[0-9]{3,8}")
"""An SMS short code, as Twilio writes it in ``To`` (no ``+``)."""
_ALPHANUMERIC_SENDER = re.compile(r"(?=[0-9 ._-]*[A-Za-z])[A-Za-z0-9 ._-]{1,11}")
"""An SMS alphanumeric sender id (at most 11 characters, at least one letter)."""


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


def inbound_identifier(raw: str) -> str:
    """The identity in a Twilio webhook address (``From``, ``To``), without its prefix.

    A possible phone number comes back as E.164 even when ``phonenumbers`` does not list it as
    valid; after ``whatsapp:``, a business-scoped user id (``US.13491208655302741918``) comes
    back as sent, and so do an SMS short code (``12345``) and alphanumeric sender id
    (``ACME``). Anything else raises :class:`InvalidPhoneNumber`.
    """
    text = raw.strip()
    bare = text.removeprefix(WHATSAPP_PREFIX).strip()
    whatsapp = text.startswith(WHATSAPP_PREFIX)
    if whatsapp and _BUSINESS_SCOPED_ID.fullmatch(bare):
        return bare
    if not whatsapp and (_SHORT_CODE.fullmatch(bare) or _ALPHANUMERIC_SENDER.fullmatch(bare)):
        return bare
    try:
        number = phonenumbers.parse(bare, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(
            "not a phone number (E.164, e.g. +14155552671) nor a WhatsApp business-scoped user id"
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber("not a possible phone number: wrong length for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_inbound_address(raw: str) -> Address:
    """A Twilio webhook address as an :class:`Address`, leniently (see :func:`inbound_identifier`).

    Its :attr:`Address.wire` is the form Twilio sent (``whatsapp:US.1349…`` stays so), so a
    reply goes back to the same sender.
    """
    channel = Channel.WHATSAPP if raw.strip().startswith(WHATSAPP_PREFIX) else Channel.SMS
    return Address(channel=channel, value=inbound_identifier(raw))


def parse_address(raw: str, *, default_region: str | None = None) -> Address:
    """A typed address (``whatsapp:+E164`` or ``+E164``) as a WhatsApp or SMS :class:`Address`;
    ``<channel>:<id>`` (``telegram:7000000001``, ``meta-whatsapp:106540352242922``) is the id
    on another channel, taken as it is.

    Strict: the number must be valid. For addresses in Twilio's webhooks use
    :func:`parse_inbound_address`.
    """
    if other := _other_channel(raw):
        return other
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


def receiving_address(address: Address | str) -> Address:
    """An address a tenant receives messages on, written as Twilio writes ``To``.

    ``whatsapp:+E164`` is a WhatsApp number, ``+E164`` an SMS number and ``name@host`` an email
    address, so one number can belong to a tenant on one channel or on both. Numbers are read
    as webhooks are (:func:`parse_inbound_address`), so they match what Twilio sends; an
    :class:`Address` is taken as it is.
    """
    if isinstance(address, Address):
        return address
    if other := _other_channel(address):
        return other
    text = address.strip()
    if "@" in text and not text.startswith(WHATSAPP_PREFIX):
        return Address(channel=Channel.EMAIL, value=text)
    return parse_inbound_address(text)


_CHANNEL_ID = re.compile(r"([a-z][a-z0-9-]{0,15}):(\S{1,64})")


def _other_channel(raw: str) -> Address | None:
    """``<channel>:<id>`` on a channel other than WhatsApp over Twilio, else ``None``."""
    match = _CHANNEL_ID.fullmatch(raw.strip())
    if match is None or f"{match[1]}:" == WHATSAPP_PREFIX:
        return None
    return Address(channel=Channel(match[1]), value=match[2])
