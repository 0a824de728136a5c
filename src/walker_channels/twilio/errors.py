"""Twilio error codes as data: what each means, whether trying again can help, what to fix.

Twilio's own ``message`` text is never copied into our errors: it often repeats the phone
number ("The 'To' number +1... is not a valid phone number"). Our messages come from this
table and are safe to log and to return in an HTTP ``detail``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from walker_channels.exceptions import ProviderError, RecipientOptedOut


class TwilioErrorInfo(NamedTuple):
    """One Twilio error code: its meaning, whether a later retry can help, and the fix;
    ``opted_out`` when it says the recipient unsubscribed."""

    meaning: str
    retryable: bool
    fix: str
    opted_out: bool = False


_E = TwilioErrorInfo
_NUMBER = "check the recipient's number (E.164: a + and the country code, no spaces)"
_WINDOW = "send an approved template (ContentSid) or wait until the person writes again"

TWILIO_ERRORS: Mapping[int, TwilioErrorInfo] = MappingProxyType(
    {
        # Account and API (answers to the REST call).
        20003: _E(
            "authentication failed", False, "check the account SID and auth token or API key"
        ),
        20005: _E("the account is not active", False, "reactivate the Twilio account"),
        20404: _E("resource not found", False, "check the account SID and the API base URL"),
        20429: _E("too many concurrent requests", True, "lower max_in_flight or retry later"),
        20500: _E("Twilio internal error", True, "retry later"),
        20503: _E("Twilio is temporarily unavailable", True, "retry later"),
        # Creating a message (answers to the REST call).
        21211: _E("the To number is not a valid phone number", False, _NUMBER),
        21212: _E("the From number is not valid", False, "check the configured sender"),
        21266: _E("To and From are the same number", False, "send to another number"),
        21408: _E(
            "sending to this region is not enabled",
            False,
            "enable the destination in the Messaging Geo Permissions of the account",
        ),
        21602: _E("the message body is required", False, "send text, media or a template"),
        21604: _E("the To number is required", False, "give the message a recipient"),
        21606: _E(
            "the From number cannot send to this destination",
            False,
            "use a message-capable Twilio number (or sender) of this account",
        ),
        21608: _E(
            "the To number is not verified for this trial account",
            False,
            "verify the number in the Twilio console or upgrade the account",
        ),
        21610: _E(
            "the recipient has opted out (replied STOP)",
            False,
            "do not message this person until they reply START",
            opted_out=True,
        ),
        21611: _E("the sender's queue of messages is full", True, "slow down and retry later"),
        21612: _E("Twilio cannot route to this number", False, _NUMBER),
        21614: _E("the To number is not a mobile number", False, "send to a mobile number"),
        21617: _E("the body is longer than 1600 characters", False, "shorten the text"),
        21619: _E("a body or media URL is required", False, "send text, media or a template"),
        21620: _E("a media URL is not valid", False, "use public http(s) media URLs"),
        21623: _E("more than 10 media URLs", False, "send at most 10 media URLs per message"),
        21656: _E("ContentVariables is not valid", False, "send the variables as a JSON object"),
        21658: _E("a parameter is too long", False, "shorten the text or template variables"),
        # Delivery (reported by status callbacks as ErrorCode).
        30003: _E("the handset is unreachable", True, "retry later"),
        30004: _E("the message was blocked", False, "check the recipient accepts messages"),
        30005: _E("unknown destination handset", False, _NUMBER),
        30006: _E("landline or unreachable carrier", False, "send to a mobile number"),
        30007: _E("the message was filtered as spam", False, "review the content and sender"),
        30008: _E("unknown delivery error", True, "retry later"),
        30034: _E(
            "the sender is not registered for US A2P 10DLC",
            False,
            "register the sending number",
        ),
        63003: _E("the channel could not find the To address", False, _NUMBER),
        63007: _E(
            "no WhatsApp sender with this From address",
            False,
            "check the configured WhatsApp sender",
        ),
        63016: _E("outside the WhatsApp 24-hour window", False, _WINDOW),
        63018: _E("the channel's rate limit was exceeded", True, "slow down and retry later"),
        63024: _E(
            "the recipient cannot receive WhatsApp messages", False, "reach them another way"
        ),
        63032: _E(
            "WhatsApp did not deliver (the user is in a marketing experiment)",
            False,
            "reach them another way",
        ),
        11751: _E("the media is larger than the channel allows", False, "send smaller media"),
    }
)
"""Twilio error codes this library knows (see twilio.com/docs/api/errors/<code>)."""


def describe_error(code: str | int | None) -> TwilioErrorInfo | None:
    """The table entry for a Twilio error code (e.g. a callback's ``ErrorCode``), if known."""
    if code is None:
        return None
    try:
        return TWILIO_ERRORS.get(int(code))
    except ValueError:
        return None


def retried_now(status: int) -> bool:
    """Whether the transport sends again at once after this HTTP status: 429 and 5xx only."""
    return status == 429 or status >= 500


def provider_error(status: int, body: bytes) -> ProviderError:
    """The typed error for a non-2xx answer from the Messages API.

    ``code`` is Twilio's code from the body, or the HTTP status when the body has none (as
    twilio-python does). ``retryable`` comes from the table, else from the HTTP status.
    """
    twilio_code = _error_code(body)
    code = twilio_code if twilio_code is not None else status
    info = TWILIO_ERRORS.get(code)
    retryable = info.retryable if info is not None else retried_now(status)
    if retried_now(status):
        retryable = True
    kind = RecipientOptedOut if info is not None and info.opted_out else ProviderError
    return kind(_message(code, status, info), retryable=retryable, code=str(code))


def _error_code(body: bytes) -> int | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    code = document.get("code") if isinstance(document, dict) else None
    if isinstance(code, bool) or not isinstance(code, int | str):
        return None
    text = str(code)
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _message(code: int, status: int, info: TwilioErrorInfo | None) -> str:
    if info is not None:
        return f"Twilio error {code} (HTTP {status}): {info.meaning}; {info.fix}"
    help_url = f"https://www.twilio.com/docs/errors/{code}"
    if status == 429:
        return f"Twilio rate limit (HTTP 429, code {code}): lower max_in_flight or retry later"
    if status >= 500:
        return f"Twilio server error (HTTP {status}, code {code}): retry later"
    return f"Twilio refused the message (HTTP {status}, code {code}); see {help_url}"
