"""Delivery-status callbacks: move the ledger forward and record each real change."""

from __future__ import annotations

from walker_channels.models import DeliveryStatusEvent, DeliveryUpdate, OutboundRecord
from walker_channels.ports import EventStore, OutboundLedger
from walker_channels.services.keys import delivery_event_key


class DeliveryTracker:
    """Applies provider status callbacks, which may arrive late, twice or out of order."""

    def __init__(self, *, ledger: OutboundLedger, events: EventStore) -> None:
        self._ledger = ledger
        self._events = events

    async def apply(self, update: DeliveryUpdate) -> OutboundRecord | None:
        """Advance the send's delivery status; ``None`` if unknown or not a step forward.

        A send whose outcome was unknown is found by the ledger key the callback carries and is
        settled by it. An event is recorded only when the status advanced.
        """
        record = await self._ledger.advance_delivery(
            provider_message_id=update.provider_message_id,
            status=update.status,
            at=update.occurred_at,
            key=update.ledger_key,
        )
        if record is None:
            return None
        await self._events.append(
            DeliveryStatusEvent(
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
        )
        return record
