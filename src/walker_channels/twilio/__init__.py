"""Twilio for WhatsApp and SMS: the transport, its settings, and the webhook parsers.

Build one :class:`TwilioTransport` per channel at start-up (it holds a pooled HTTP client) and
close it at shutdown. The webhook parsers are pure functions: verify the signature first, then
call :func:`parse_inbound_form` or :func:`parse_status_callback`. :func:`fetch_media` downloads
an inbound message's media from Twilio's hosts only (:class:`MediaPolicy`). Twilio's
vocabularies live here as tables (:data:`MESSAGE_STATUSES`, :data:`TWILIO_ERRORS`).
"""

from __future__ import annotations

from walker_channels.twilio.config import DEFAULT_API_BASE_URL, RetrySettings, TwilioConfig
from walker_channels.twilio.errors import (
    TWILIO_ERRORS,
    TwilioErrorInfo,
    describe_error,
    provider_error,
)
from walker_channels.twilio.http import (
    HttpClient,
    HttpResponse,
    RequestInvalid,
    RequestMaybeSent,
    RequestNotSent,
)
from walker_channels.twilio.limits import (
    MAX_BODY_CHARS,
    MAX_MEDIA,
    MAX_WHATSAPP_MEDIA,
    body_length,
    check_sendable,
)
from walker_channels.twilio.media import (
    MAX_MEDIA_BYTES,
    MEDIA_TYPES,
    TWILIO_MEDIA_HOSTS,
    TWILIO_MEDIA_POLICY,
    FetchedMedia,
    MediaPolicy,
    fetch_media,
)
from walker_channels.twilio.statuses import MESSAGE_STATUSES, delivery_status
from walker_channels.twilio.transport import TwilioTransport
from walker_channels.twilio.webhooks import parse_inbound_form, parse_status_callback
from walker_channels.twilio.whatsapp import Location, WhatsAppDetails, whatsapp_details
from walker_channels.twilio.wire import LEDGER_KEY_PARAM, message_form, status_callback_url

__all__ = [
    "DEFAULT_API_BASE_URL",
    "LEDGER_KEY_PARAM",
    "MAX_BODY_CHARS",
    "MAX_MEDIA",
    "MAX_MEDIA_BYTES",
    "MAX_WHATSAPP_MEDIA",
    "MEDIA_TYPES",
    "MESSAGE_STATUSES",
    "TWILIO_ERRORS",
    "TWILIO_MEDIA_HOSTS",
    "TWILIO_MEDIA_POLICY",
    "FetchedMedia",
    "HttpClient",
    "HttpResponse",
    "Location",
    "MediaPolicy",
    "RequestInvalid",
    "RequestMaybeSent",
    "RequestNotSent",
    "RetrySettings",
    "TwilioConfig",
    "TwilioErrorInfo",
    "TwilioTransport",
    "WhatsAppDetails",
    "body_length",
    "check_sendable",
    "delivery_status",
    "describe_error",
    "fetch_media",
    "message_form",
    "parse_inbound_form",
    "parse_status_callback",
    "provider_error",
    "status_callback_url",
    "whatsapp_details",
]
