"""The events a send records: one ``outbound`` event when it went out, one ``outbound_failed``
event per attempt that did not (or whose outcome is unknown)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from walker_channels.models import (
    Channel,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundMessage,
    OutboundRecord,
)
from walker_channels.models.base import JsonObject
from walker_channels.services.keys import outbound_event_key, outbound_failed_event_key
from walker_channels.services.sending import SendContext, SendPurpose


class Failure(TypedDict):
    """What an ``outbound_failed`` event says about the attempt."""

    error_code: str | None
    error_message: str
    retryable: bool
    outcome_unknown: bool


def sent_event(
    record: OutboundRecord,
    message: OutboundMessage | None,
    context: SendContext | None,
    *,
    at: datetime,
    provider_message_id: str | None,
) -> OutboundEvent:
    """The one ``outbound`` event of the send ``record`` (keyed by it)."""
    return OutboundEvent(
        **_common(record, message, context),
        idempotency_key=outbound_event_key(record.key),
        occurred_at=at,
        provider_message_id=provider_message_id,
        text=recorded_text(message),
    )


def failed_event(
    record: OutboundRecord,
    message: OutboundMessage | None,
    context: SendContext | None,
    *,
    at: datetime,
    failure: Failure,
) -> OutboundFailedEvent:
    """The ``outbound_failed`` event of one attempt of the send ``record``."""
    return OutboundFailedEvent(
        **_common(record, message, context),
        idempotency_key=outbound_failed_event_key(record.key, at),
        occurred_at=at,
        text=recorded_text(message),
        **failure,
    )


def unpack(record: OutboundRecord) -> tuple[OutboundMessage | None, SendContext | None]:
    """The message and context a record's payload holds (``None`` without a payload)."""
    if record.payload is None:
        return None, None
    context = record.payload.context
    return record.payload.message, SendContext.model_validate(context) if context else None


def recorded_text(message: OutboundMessage | None) -> str:
    """The text an event records: an email's subject (never its body), else the text."""
    if message is None:
        return ""
    if message.email is not None:
        return message.email.subject
    return message.text or ""


class _Fields(TypedDict):
    tenant_id: str | None
    channel: Channel
    participant: str
    session_id: str | None
    data: JsonObject
    agent_id: str | None
    confidence: float | None
    response_time_ms: float | None
    hitl: bool


def _common(
    record: OutboundRecord, message: OutboundMessage | None, context: SendContext | None
) -> _Fields:
    purpose = SendPurpose.of_key(record.key)
    data: JsonObject = {} if purpose is None else {"purpose": purpose.value}
    if context is not None:
        data = {"purpose": context.purpose.value, **context.data}
    if message is not None and message.template is not None:
        data["template"] = message.template.content_sid
    if message is not None and message.media:
        data["media_count"] = len(message.media)
    return {
        "tenant_id": record.tenant_id,
        "channel": record.channel,
        "participant": record.participant,
        "session_id": None if context is None else context.session_id,
        "data": data,
        "agent_id": None if context is None else context.agent_id,
        "confidence": None if context is None else context.confidence,
        "response_time_ms": None if context is None else context.response_time_ms,
        "hitl": False if context is None else context.hitl,
    }
