"""WhatsApp through Meta's Cloud API, for teams that do not use Twilio.

:func:`meta_channel` makes the channel (``meta-whatsapp``) from a :class:`MetaConfig`: a
:class:`MetaTransport` (one pooled HTTP client; close it at shutdown) that POSTs to
``{base}/{version}/{phone_number_id}/messages``, and a :class:`MetaWebhook` served at
``/api/v1/channels/meta-whatsapp/webhook`` that answers the subscription check and verifies
and parses the signed notifications. The parsers are pure functions
(:func:`parse_notification`, :func:`verify_signature`); Meta's vocabularies are tables
(:data:`META_ERRORS`, :data:`STATUSES`). See docs/channels/meta-whatsapp.md.
"""

from __future__ import annotations

from walker_channels.meta.channel import meta_channel
from walker_channels.meta.config import (
    DEFAULT_GRAPH_BASE_URL,
    DEFAULT_GRAPH_VERSION,
    LABEL,
    META_WHATSAPP,
    MetaConfig,
    MetaTemplate,
)
from walker_channels.meta.content import MEDIA_TYPES
from walker_channels.meta.errors import (
    META_ERRORS,
    MetaErrorInfo,
    MetaErrorKind,
    describe_error,
    provider_error,
)
from walker_channels.meta.receiver import MetaWebhook
from walker_channels.meta.signature import subscription_challenge, verify_signature
from walker_channels.meta.transport import MetaTransport
from walker_channels.meta.webhooks import STATUSES, parse_notification
from walker_channels.meta.wire import (
    MAX_CAPTION_CHARS,
    MAX_TEXT_CHARS,
    check_sendable,
    message_payload,
    send_result,
    template_components,
)

__all__ = [
    "DEFAULT_GRAPH_BASE_URL",
    "DEFAULT_GRAPH_VERSION",
    "LABEL",
    "MAX_CAPTION_CHARS",
    "MAX_TEXT_CHARS",
    "MEDIA_TYPES",
    "META_ERRORS",
    "META_WHATSAPP",
    "STATUSES",
    "MetaConfig",
    "MetaErrorInfo",
    "MetaErrorKind",
    "MetaTemplate",
    "MetaTransport",
    "MetaWebhook",
    "check_sendable",
    "describe_error",
    "message_payload",
    "meta_channel",
    "parse_notification",
    "provider_error",
    "send_result",
    "subscription_challenge",
    "template_components",
    "verify_signature",
]
