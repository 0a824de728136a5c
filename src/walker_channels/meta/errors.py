"""Meta's Graph API error codes as data: what kind of failure each is, and what to fix.

Every error answer becomes a :class:`~walker_channels.exceptions.ProviderError` whose
``retryable`` follows the code's :class:`MetaErrorKind`: rate limits and Meta's temporary
failures are retried (with backoff, or after ``Retry-After``), every refusal is final. A code
the table does not know is :attr:`MetaErrorKind.UNKNOWN`, retried only for a 5xx or a 429.
Meta's own ``message`` text is never copied into our errors (it may repeat a number).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from walker_channels.exceptions import ProviderError


class MetaErrorKind(StrEnum):
    """What a Meta error code says about the send, and so whether to try again."""

    RATE_LIMITED = "rate_limited"
    """Too many requests (app, account, pair or spam limits): retried after a wait."""
    TEMPORARY = "temporary"
    """Meta could not take it now: retried."""
    WINDOW_CLOSED = "window_closed"
    """More than 24 hours since the person last wrote: only a template goes out."""
    UNDELIVERABLE = "undeliverable"
    """The person cannot get this message (no WhatsApp, blocked, Meta chose not to)."""
    AUTH = "auth"
    """The token is wrong, expired or lacks a permission: fix the settings."""
    INVALID_REQUEST = "invalid_request"
    """A parameter, template or media link is wrong: fix the message."""
    UNSUPPORTED = "unsupported"
    """The message type is not supported here."""
    UNKNOWN = "unknown"
    """A code this table does not know."""


class MetaErrorInfo(NamedTuple):
    """One Meta error code: its kind, its meaning and the fix."""

    kind: MetaErrorKind
    meaning: str
    fix: str


RETRIED = frozenset({MetaErrorKind.RATE_LIMITED, MetaErrorKind.TEMPORARY})
"""The kinds sent again by the transport."""

_K = MetaErrorKind
_E = MetaErrorInfo
_WINDOW = "send an approved template or wait until the person writes again"
# A hint naming the setting, not a secret.
_FIX_TOKEN = "check META_WHATSAPP_TOKEN (a system user token with whatsapp_business_messaging)"  # noqa: S105
_SLOW = "slow down; the send is retried after a wait"

META_ERRORS: Mapping[int, MetaErrorInfo] = MappingProxyType(
    {
        0: _E(_K.AUTH, "authentication failed", _FIX_TOKEN),
        1: _E(_K.TEMPORARY, "Meta had an unknown error", "retry later"),
        2: _E(_K.TEMPORARY, "Meta's service is temporarily unavailable", "retry later"),
        3: _E(_K.AUTH, "the app lacks the capability", "check the app's WhatsApp permissions"),
        4: _E(_K.RATE_LIMITED, "the app's request rate limit was hit", _SLOW),
        10: _E(_K.AUTH, "permission denied", _FIX_TOKEN),
        33: _E(
            _K.INVALID_REQUEST,
            "the phone number id does not exist or is not reachable with this token",
            "check META_PHONE_NUMBER_ID",
        ),
        100: _E(_K.INVALID_REQUEST, "a parameter is invalid", "check the message's content"),
        190: _E(_K.AUTH, "the access token is invalid or expired", _FIX_TOKEN),
        200: _E(_K.AUTH, "the token lacks a permission", _FIX_TOKEN),
        368: _E(
            _K.UNDELIVERABLE,
            "the account is temporarily blocked for policy violations",
            "see the account's quality in WhatsApp Manager",
        ),
        80007: _E(_K.RATE_LIMITED, "the account's rate limit was hit", _SLOW),
        130429: _E(_K.RATE_LIMITED, "the phone number's throughput limit was hit", _SLOW),
        131000: _E(_K.TEMPORARY, "something went wrong at Meta", "retry later"),
        131005: _E(_K.AUTH, "access denied", _FIX_TOKEN),
        131008: _E(_K.INVALID_REQUEST, "a required parameter is missing", "check the message"),
        131009: _E(_K.INVALID_REQUEST, "a parameter value is invalid", "check the message"),
        131016: _E(_K.TEMPORARY, "the service is overloaded", "retry later"),
        131021: _E(_K.INVALID_REQUEST, "the recipient is the sender", "send to another number"),
        131026: _E(
            _K.UNDELIVERABLE,
            "the message is undeliverable (no WhatsApp, old app, or not accepted the terms)",
            "reach the person another way",
        ),
        131030: _E(
            _K.INVALID_REQUEST,
            "the recipient is not in the test number's allowed list",
            "add the number to the allowed list or use a production number",
        ),
        131031: _E(_K.AUTH, "the business account is locked", "see WhatsApp Manager"),
        131042: _E(_K.AUTH, "a payment problem blocks the account", "fix the payment method"),
        131045: _E(_K.AUTH, "the phone number is not registered", "register the number"),
        131047: _E(_K.WINDOW_CLOSED, "outside the 24-hour window (re-engagement)", _WINDOW),
        131048: _E(_K.RATE_LIMITED, "the spam rate limit was hit", _SLOW),
        131049: _E(
            _K.UNDELIVERABLE,
            "Meta chose not to deliver (ecosystem engagement)",
            "do not resend at once; try a later day",
        ),
        131050: _E(
            _K.UNDELIVERABLE,
            "the person stopped marketing messages",
            "do not send marketing templates to this person",
        ),
        131051: _E(_K.UNSUPPORTED, "the message type is not supported", "send text or media"),
        131052: _E(_K.TEMPORARY, "a media download failed", "retry later"),
        131053: _E(
            _K.INVALID_REQUEST,
            "Meta could not fetch or use the media link",
            "use a public https link of a supported type and size",
        ),
        131056: _E(
            _K.RATE_LIMITED, "too many messages to the same person (pair rate limit)", _SLOW
        ),
        131057: _E(_K.TEMPORARY, "the account is in maintenance mode", "retry later"),
        132000: _E(
            _K.INVALID_REQUEST,
            "the template's variables do not match its parameters",
            "send as many variables as the template has",
        ),
        132001: _E(
            _K.INVALID_REQUEST,
            "the template does not exist in this language",
            "check the template's name and language in META_TEMPLATES",
        ),
        132005: _E(_K.INVALID_REQUEST, "the template's text is too long", "shorten variables"),
        132007: _E(_K.INVALID_REQUEST, "a variable breaks the template's format", "fix it"),
        132012: _E(_K.INVALID_REQUEST, "a variable has the wrong format", "fix the variables"),
        132015: _E(_K.UNDELIVERABLE, "the template is paused (low quality)", "edit it"),
        132016: _E(_K.UNDELIVERABLE, "the template is disabled", "use another template"),
        133004: _E(_K.TEMPORARY, "the server is temporarily unavailable", "retry later"),
        133016: _E(_K.RATE_LIMITED, "the registration rate limit was hit", _SLOW),
    }
)
"""The Meta error codes this library knows (developers.facebook.com, Cloud API error codes)."""


def describe_error(code: str | int | None) -> MetaErrorInfo:
    """The table entry for a Meta error code; :attr:`MetaErrorKind.UNKNOWN` if not listed."""
    try:
        known = META_ERRORS.get(int(code)) if code is not None else None
    except ValueError:
        known = None
    return known or MetaErrorInfo(MetaErrorKind.UNKNOWN, "an error this library does not know", "")


def provider_error(status: int, body: bytes) -> tuple[ProviderError, MetaErrorKind]:
    """The typed error for a non-2xx Graph API answer, and its kind.

    ``code`` is Meta's ``error.code`` (the HTTP status when the body has none). Rate limits
    count as such whatever the HTTP status (Meta answers them with 400 as often as 429).
    """
    meta_code, subcode = _error_codes(body)
    code = meta_code if meta_code is not None else status
    # Code 100 with subcode 33 is how Meta names an object id it does not know.
    info = describe_error(33 if (meta_code, subcode) == (100, 33) else meta_code)
    kind = info.kind
    if kind is MetaErrorKind.UNKNOWN and status == 429:
        kind = MetaErrorKind.RATE_LIMITED
    elif kind is MetaErrorKind.UNKNOWN and status >= 500:
        kind = MetaErrorKind.TEMPORARY
    retryable = kind in RETRIED
    return ProviderError(_message(code, status, info), retryable=retryable, code=str(code)), kind


def _error_codes(body: bytes) -> tuple[int | None, int | None]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None, None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None
    return _number(error.get("code")), _number(error.get("error_subcode"))


def _number(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value)
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _message(code: int, status: int, info: MetaErrorInfo) -> str:
    if info.kind is not MetaErrorKind.UNKNOWN:
        return f"Meta error {code} (HTTP {status}): {info.meaning}; {info.fix}"
    if status == 429:
        return f"Meta rate limit (HTTP 429, code {code}): slow down and retry later"
    if status >= 500:
        return f"Meta server error (HTTP {status}, code {code}): retry later"
    return f"Meta refused the message (HTTP {status}, code {code}); see the Cloud API error codes"
