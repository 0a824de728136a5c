"""Sending a rendered email and recording the outcome in the event log."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TypedDict

from pydantic import Field, SecretStr

from walker_channels.exceptions import ConfigurationError, TransportError
from walker_channels.models import (
    Address,
    Channel,
    EmailContent,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundMessage,
    SendResult,
)
from walker_channels.models.base import Frozen, JsonObject
from walker_channels.ports import Clock, EventStore, MessageTransport
from walker_channels.privacy import pseudonymize

log = logging.getLogger(__name__)


class EmailDraft(Frozen):
    """A rendered email for one recipient, and what its event should record."""

    tenant_id: str = Field(min_length=1)
    to: Address
    content: EmailContent
    purpose: str = Field(min_length=1)
    """What the email is: ``custom``, ``daily_brief`` (recorded as ``data.purpose``)."""
    data: JsonObject = Field(default_factory=dict)
    session_id: str | None = None
    agent_id: str | None = None
    confidence: float | None = None
    response_time_ms: float | None = None
    idempotency_key: str | None = None
    """Key of the sent event: the same cause is recorded as sent at most once."""


class _EventFields(TypedDict):
    tenant_id: str
    channel: Channel
    participant: str
    occurred_at: datetime
    session_id: str | None
    data: JsonObject
    text: str
    agent_id: str | None
    confidence: float | None
    response_time_ms: float | None


class EmailOutbox:
    """Sends drafts through an email transport and records each outcome, tenant-scoped.

    A sent email is an ``OutboundEvent``, a failed one an ``OutboundFailedEvent`` (then the
    :class:`~walker_channels.exceptions.TransportError` is raised again). The recipient is
    recorded as a keyed pseudonym; the event text is the subject, never the body.
    """

    def __init__(
        self,
        *,
        transport: MessageTransport,
        events: EventStore,
        clock: Clock,
        pseudonym_key: SecretStr | str | bytes,
    ) -> None:
        if transport.channel is not Channel.EMAIL:
            raise ConfigurationError("the email outbox needs a transport for the email channel")
        self._transport = transport
        self._events = events
        self._clock = clock
        secret = pseudonym_key
        self._key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        pseudonymize("check", self._key)  # fail at start-up, not at the first send

    def participant(self, address: Address) -> str:
        """The pseudonym events record for ``address``."""
        return pseudonymize(address.value, self._key)

    async def deliver(self, draft: EmailDraft) -> SendResult:
        """Send ``draft`` and record it; raises TransportError (recorded) when sending fails."""
        message = OutboundMessage(channel=Channel.EMAIL, to=draft.to, email=draft.content)
        try:
            result = await self._transport.send(message)
        except TransportError as exc:
            await self._events.append(self._failed(draft, exc))
            log.warning(
                "email %s for tenant %s failed: %s code=%s retryable=%s",
                draft.purpose,
                draft.tenant_id,
                type(exc).__name__,
                exc.code,
                exc.retryable,
            )
            raise
        await self._events.append(self._sent(draft, result))
        return result

    def _sent(self, draft: EmailDraft, result: SendResult) -> OutboundEvent:
        return OutboundEvent(
            **self._common(draft),
            idempotency_key=draft.idempotency_key,
            provider_message_id=result.provider_message_id,
        )

    def _failed(self, draft: EmailDraft, exc: TransportError) -> OutboundFailedEvent:
        return OutboundFailedEvent(
            **self._common(draft),
            error_code=exc.code,
            error_message=str(exc),
            retryable=exc.retryable,
        )

    def _common(self, draft: EmailDraft) -> _EventFields:
        return {
            "tenant_id": draft.tenant_id,
            "channel": Channel.EMAIL,
            "participant": self.participant(draft.to),
            "occurred_at": self._clock.now(),
            "session_id": draft.session_id,
            "data": {"purpose": draft.purpose, **draft.data},
            "text": draft.content.subject,
            "agent_id": draft.agent_id,
            "confidence": draft.confidence,
            "response_time_ms": draft.response_time_ms,
        }
