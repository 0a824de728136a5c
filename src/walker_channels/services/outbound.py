"""The one place that sends, on every channel: reserve a ledger record first, then call the
transport once, then record the outcome."""

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
    Address,
    Channel,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundMessage,
    OutboundRecord,
    OutboundState,
    SendResult,
)
from walker_channels.models.base import JsonObject
from walker_channels.ports import Clock, EventStore, MessageTransport, OutboundLedger
from walker_channels.services.config import ServiceConfig
from walker_channels.services.keys import outbound_event_key, outbound_failed_event_key
from walker_channels.services.sending import SendContext, SendReceipt

log = logging.getLogger(__name__)


class OutboundSender:
    """Sends each message at most once per idempotency key and records the outcome.

    The ledger record is reserved before the transport is called: a retry or a second worker
    with the same key finds it and sends nothing. A send the provider refused (``failed``) may
    be tried again under the same key, since nothing went out; a send whose outcome is unknown
    is marked so and never re-sent blindly.
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

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels a transport is configured for."""
        return frozenset(self._transports)

    def participant(self, address: Address) -> str:
        """The pseudonym the events of a send to ``address`` record."""
        return self._config.pseudonym(address.value)

    async def send(self, message: OutboundMessage, context: SendContext) -> SendReceipt:
        """Send ``message`` under ``context.key`` unless that key was used already.

        Provider failures are recorded and returned in the receipt, not raised (the receipt's
        :meth:`~SendReceipt.raise_for_failure` raises them);
        :class:`~walker_channels.exceptions.MessageRejected` (refused before sending: the
        message itself is unusable) is recorded and then raised.
        """
        key = context.key
        transport = self._transport_for(message.channel)
        participant = self.participant(message.to)
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
        except Exception as exc:
            # Anything else after the reservation may have reached the provider: unknown.
            unknown = DeliveryUnknown(f"the transport failed unexpectedly ({type(exc).__name__})")
            unknown.__cause__ = exc
            return await self._failed(key, keyed, participant, context, unknown)
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
        if await self._ledger.reserve(record):
            return True
        # The provider refused the earlier send, so nothing went out: it may be tried again.
        return await self._ledger.retry(key, at=now)

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
        context: SendContext,
        result: SendResult,
    ) -> SendReceipt:
        now = self._clock.now()
        pid = result.provider_message_id
        await self._ledger.settle(key, state=OutboundState.SENT, at=now, provider_message_id=pid)
        event = OutboundEvent(
            **_common(key, message, participant, context),
            occurred_at=now,
            provider_message_id=pid,
            text=_recorded_text(message),
        )
        await self._events.append(event)
        return SendReceipt(key=key, state=OutboundState.SENT, provider_message_id=pid)

    async def _failed(
        self,
        key: str,
        message: OutboundMessage,
        participant: str,
        context: SendContext,
        exc: TransportError | MessageRejected,
    ) -> SendReceipt:
        now = self._clock.now()
        unknown = isinstance(exc, DeliveryUnknown)
        state = OutboundState.UNKNOWN if unknown else OutboundState.FAILED
        code = exc.code if isinstance(exc, TransportError) else None
        retryable = isinstance(exc, TransportError) and exc.retryable
        await self._ledger.settle(key, state=state, at=now, error_code=code)
        fields = _common(key, message, participant, context)
        fields["idempotency_key"] = outbound_failed_event_key(key, now)
        event = OutboundFailedEvent(
            **fields,
            occurred_at=now,
            text=_recorded_text(message),
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
        receipt = SendReceipt(key=key, state=state, error_code=code, retryable=retryable)
        return receipt.with_error(exc) if isinstance(exc, TransportError) else receipt


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


def _recorded_text(message: OutboundMessage) -> str:
    # An email's event records its subject, never its body.
    if message.email is not None:
        return message.email.subject
    return message.text or ""


def _common(
    key: str, message: OutboundMessage, participant: str, context: SendContext
) -> _EventFields:
    data: JsonObject = {"purpose": context.purpose.value, **context.data}
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
