"""Delivery-status callbacks: move the ledger forward and record each real change."""

from __future__ import annotations

import logging

from walker_channels.models import (
    DeliveryStatus,
    DeliveryStatusEvent,
    DeliveryUpdate,
    OutboundRecord,
    OutboundState,
    Settlement,
)
from walker_channels.ports import ChannelEvents, EventStore, OutboundLedger
from walker_channels.services.hooks import Hooks
from walker_channels.services.keys import delivery_event_key
from walker_channels.services.outbound_events import sent_event, unpack

log = logging.getLogger(__name__)
_FAILED = frozenset({DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED})


class DeliveryTracker:
    """Applies provider status callbacks, which may arrive late, twice or out of order."""

    def __init__(
        self, *, ledger: OutboundLedger, events: EventStore, hooks: ChannelEvents | None = None
    ) -> None:
        self._ledger = ledger
        self._events = events
        self._hooks = Hooks(hooks)

    async def apply(self, update: DeliveryUpdate) -> OutboundRecord | None:
        """Advance the send's delivery status; ``None`` if unknown or not a step forward.

        A send whose outcome was unknown is found by the ledger key the callback carries and is
        settled by it. An event is recorded only when the status advanced.
        """
        if update.ledger_key is not None:
            await self._settle_unknown(update.ledger_key, update)
        record = await self._ledger.advance_delivery(
            provider_message_id=update.provider_message_id,
            status=update.status,
            at=update.occurred_at,
            key=update.ledger_key,
        )
        if record is None:
            return None
        event = DeliveryStatusEvent(
            tenant_id=record.tenant_id,
            channel=record.channel,
            participant=record.participant,
            occurred_at=update.occurred_at,
            idempotency_key=delivery_event_key(update.provider_message_id, update.status),
            provider_message_id=update.provider_message_id,
            status=update.status,
            error_code=update.error_code,
            data={"ledger_key": record.key},
        )
        if await self._events.append(event) and event.status in _FAILED:
            await self._hooks.delivery_failed(event)
        return record

    async def _settle_unknown(self, key: str, update: DeliveryUpdate) -> None:
        """A callback proves the provider has the message: an unknown send was sent."""
        record = await self._ledger.get(key)
        if record is None or record.state is not OutboundState.UNKNOWN:
            return
        pid = update.provider_message_id
        settlement = Settlement(
            state=OutboundState.SENT,
            at=update.occurred_at,
            expected=(OutboundState.UNKNOWN,),
            provider_message_id=pid,
        )
        message, context = unpack(record)
        event = sent_event(record, message, context, at=update.occurred_at, provider_message_id=pid)
        if await self._ledger.settle(key, settlement, event=event):
            log.info("send %s settled by its status callback", key)
