"""Webhook forms as received: every field kept, repeated ones as tuples, single ones checked."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from walker_channels.exceptions import InvalidInput

FormValue = str | Sequence[str]
"""One form field as a web framework gives it: a value, or the values of a repeated name."""
RawForm = dict[str, str | tuple[str, ...]]
"""A form as the domain keeps it (``InboundMessage.raw``, ``DeliveryUpdate.raw``)."""

# Twilio SIDs are two letters and 32 hex digits (SM..., MM...); allow any letters and digits
# of a sane length so a test harness's shorter ids still parse.
_SID = re.compile(r"[A-Za-z]{2}[A-Za-z0-9]{1,62}")


def raw_form(form: Mapping[str, FormValue]) -> RawForm:
    """Every field of ``form``: one value as a string, several as a tuple (in order)."""
    raw: RawForm = {}
    for name, value in form.items():
        if not isinstance(name, str):
            raise InvalidInput("form field names must be text")
        if isinstance(value, str):
            raw[name] = value
            continue
        values = tuple(value) if isinstance(value, Sequence) else (value,)
        if not all(isinstance(item, str) for item in values):  # bytes and numbers included
            raise InvalidInput("form values must be text or lists of text")
        if values:
            raw[name] = values[0] if len(values) == 1 else values
    return raw


def single(raw: RawForm, name: str) -> str | None:
    """The one value of the field ``name`` (a known Twilio field), or ``None`` if absent."""
    value = raw.get(name)
    if isinstance(value, tuple):
        raise InvalidInput(f"{name} was sent more than once; Twilio sends it once")
    return value


def required(raw: RawForm, name: str) -> str:
    """The one non-blank value of the field ``name``; raises :class:`InvalidInput` if missing."""
    value = single(raw, name)
    if value is None or not value.strip():
        raise InvalidInput(f"{name} is missing: is this a Twilio messaging webhook?")
    return value


def message_sid(raw: RawForm) -> str:
    """The ``MessageSid`` of the form, checked to look like a Twilio SID."""
    sid = required(raw, "MessageSid")
    if not _SID.fullmatch(sid):
        raise InvalidInput("MessageSid must be two letters then letters or digits (e.g. SM...)")
    return sid


def is_http_url(text: str) -> bool:
    """Whether ``text`` is an absolute http(s) URL (malformed ones are not)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
