"""Anonymisation: keyed pseudonyms for people, short redacted previews for messages."""

from __future__ import annotations

import base64
import hmac
import re

from walker_channels.exceptions import ConfigurationError

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, optionally with +, spaces, dots, dashes or parentheses between them.
_PHONE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")
_SPACE = re.compile(r"\s+")


def pseudonymize(identifier: str, key: bytes | str) -> str:
    """A short, stable pseudonym for ``identifier``: HMAC-SHA256 keyed with a server secret.

    A plain hash of a phone number can be reversed by hashing every possible number; without
    the key it cannot. The same identifier and key always give the same 16-character value.
    """
    secret = key.encode() if isinstance(key, str) else key
    if not secret:
        raise ConfigurationError("a pseudonym key is required (WALKER_PSEUDONYM_KEY)")
    digest = hmac.digest(secret, identifier.strip().lower().encode(), "sha256")
    return base64.b32encode(digest[:10]).decode().lower()


def preview(text: str, limit: int = 50) -> str:
    """At most ``limit`` characters of ``text``, with email addresses and phone numbers redacted.

    Whitespace is collapsed; a cut is marked with a trailing ellipsis (counted in the limit).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    flat = _SPACE.sub(" ", redact(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def redact(text: str) -> str:
    """``text`` with email addresses and phone numbers replaced by ``[email]`` and ``[phone]``."""
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))
