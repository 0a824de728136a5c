"""The one place that sends: reserve a ledger record first, then call the transport once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TypedDict

from walker_channels.exceptions import (
    ConfigurationError,
    DeliveryUnknown,
    MessageRejected,
    TransportError,
)
from walker_channels.models import (
    Channel,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundMessage,
    OutboundRecord,
    OutboundState,
    SendResult,
)
from walker_channels.models.base import Frozen, JsonObject
from walker_channels.ports import Clock, EventStore, MessageTransport, OutboundLedger
from walker_channels.services.config import ServiceConfig
from walker_channels.services.keys import outbound_event_key

log = logging.getLogger(__name__)


class SendReceipt(Frozen):
    """How a send under ``key`` ended; ``duplicate`` when the key was taken and nothing was sent."""

    key: str
    state: OutboundState
    duplicate: bool = False
    provider_message_id: str | None = None
    error_code: str | None = None
    retryable: bool = False


class _SendContext(Frozen):
    """What the events of a send record besides the message: who answered, how, and why."""

    tenant_id: str | None
    purpose: str = "reply"
    """``reply``, ``holding``, ``notice``, ``approved``, ``fallback`` or ``proactive``."""
    agent_id: str | None = None
    confidence: float | None = None
    response_time_ms: float | None = None
    hitl: bool = False
    session_id: str | None = None


class OutboundSender:
    """Sends each message at most once per idempotency key and records the outcome.

    The ledger record is reserved before the transport is called: a retry or a second worker
    with the same key finds it and sends nothing. A send whose outcome is unknown is marked so
    and left for the delivery callback to settle, never re-sent blindly.
    """

    def __init__(
        self,
        *,
        transports: Mapping[Channel, MessageTransport],
        ledger: OutboundLedger,
        events: EventStore,
        clock: Clock,
        config: ServiceConfig,
    ) -> None:
        for channel, transport in transports.items():
            if transport.channel is not channel:
                raise ConfigurationError(
                    f"the transport registered for {channel.value} sends on "
                    f"{transport.channel.value}"
                )
        self._transports = dict(transports)
        self._ledger = ledger
        self._events = events
        self._clock = clock
        self._config = config

    async def send(
        self,
        message: OutboundMessage,
        *,
        key: str,
        tenant_id: str | None,
        purpose: str = "reply",
        agent_id: str | None = None,
        confidence: float | None = None,
        response_time_ms: float | None = None,
        hitl: bool = False,
        session_id: str | None = None,
    ) -> SendReceipt:
        """Send ``message`` under ``key`` unless that key was used already.

        The other arguments are recorded on the outbound event. Provider failures are recorded
        and returned in the receipt, not raised;
        :class:`~walker_channels.exceptions.MessageRejected` (refused before sending: the
        message itself is unusable) is recorded and then raised.
        """
        context = _SendContext(
            tenant_id=tenant_id,
            purpose=purpose,
            agent_id=agent_id,
            confidence=confidence,
            response_time_ms=response_time_ms,
            hitl=hitl,
            session_id=session_id,
        )
        transport = self._transport_for(message.channel)
        participant = self._config.pseudonym(message.to.value)
        if not await self._reserve(key, participant, message.channel, context.tenant_id):
            return await self._existing(key)
        keyed = message if message.idempotency_key else message.replace(idempotency_key=key)
        try:
            result = await transport.send(keyed)
        except MessageRejected as exc:
            await self._failed(key, keyed, participant, context, exc)
            raise
        except TransportError as exc:
            return await self._failed(key, keyed, participant, context, exc)
        return await self._sent(key, keyed, participant, context, result)

    async def record(self, key: str) -> OutboundRecord | None:
        """The ledger record of ``key``, if a send was ever reserved under it."""
        return await self._ledger.get(key)

    def _transport_for(self, channel: Channel) -> MessageTransport:
        transport = self._transports.get(channel)
        if transport is None:
            raise ConfigurationError(f"no transport is configured for the {channel.value} channel")
        return transport

    async def _reserve(
        self, key: str, participant: str, channel: Channel, tenant_id: str | None
    ) -> bool:
        now = self._clock.now()
        record = OutboundRecord(
            key=key,
            tenant_id=tenant_id,
            channel=channel,
            participant=participant,
            created_at=now,
            updated_at=now,
        )
        return await self._ledger.reserve(record)

    async def _existing(self, key: str) -> SendReceipt:
        record = await self._ledger.get(key)
        if record is None:
            raise ConfigurationError("the outbound ledger refused a key it does not hold")
        log.info("send %s skipped: the key was used already (%s)", key, record.state.value)
        return SendReceipt(
            key=key,
            state=record.state,
            duplicate=True,
            provider_message_id=record.provider_message_id,
            error_code=record.error_code,
        )

    async def _sent(
        self,
        key: str,
        message: OutboundMessage,
        participant: str,
        context: _SendContext,
        result: SendResult,
    ) -> SendReceipt:
        now = self._clock.now()
        pid = result.provider_message_id
        await self._ledger.settle(key, state=OutboundState.SENT, at=now, provider_message_id=pid)
        event = OutboundEvent(
            **_common(key, message, participant, context),
            occurred_at=now,
            provider_message_id=pid,
            text=message.text or "",
        )
        await self._events.append(event)
        return SendReceipt(key=key, state=OutboundState.SENT, provider_message_id=pid)

    async def _failed(
        self,
        key: str,
        message: OutboundMessage,
        participant: str,
        context: _SendContext,
        exc: TransportError | MessageRejected,
    ) -> SendReceipt:
        now = self._clock.now()
        unknown = isinstance(exc, DeliveryUnknown)
        state = OutboundState.UNKNOWN if unknown else OutboundState.FAILED
        code = exc.code if isinstance(exc, TransportError) else None
        retryable = isinstance(exc, TransportError) and exc.retryable
        await self._ledger.settle(key, state=state, at=now, error_code=code)
        event = OutboundFailedEvent(
            **_common(key, message, participant, context),
            occurred_at=now,
            text=message.text or "",
            error_code=code,
            error_message=str(exc),
            retryable=retryable,
            outcome_unknown=unknown,
        )
        await self._events.append(event)
        log.warning(
            "send %s %s: %s code=%s retryable=%s",
            key,
            state.value,
            type(exc).__name__,
            code,
            retryable,
        )
        return SendReceipt(key=key, state=state, error_code=code, retryable=retryable)


class _EventFields(TypedDict):
    tenant_id: str | None
    channel: Channel
    participant: str
    idempotency_key: str
    session_id: str | None
    data: JsonObject
    agent_id: str | None
    confidence: float | None
    response_time_ms: float | None
    hitl: bool


def _common(
    key: str, message: OutboundMessage, participant: str, context: _SendContext
) -> _EventFields:
    data: JsonObject = {"purpose": context.purpose}
    if message.template is not None:
        data["template"] = message.template.content_sid
    if message.media:
        data["media_count"] = len(message.media)
    return {
        "tenant_id": context.tenant_id,
        "channel": message.channel,
        "participant": participant,
        "idempotency_key": outbound_event_key(key),
        "session_id": context.session_id,
        "data": data,
        "agent_id": context.agent_id,
        "confidence": context.confidence,
        "response_time_ms": context.response_time_ms,
        "hitl": context.hitl,
    }
