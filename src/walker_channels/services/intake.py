"""An :class:`~walker_channels.ports.AcceptStore` made of the separate store ports.

For stores that cannot write several records in one transaction (the in-memory ones, a
host's own): each record is written on its own, in the order that loses nothing. The SQL
stores have their own, one transaction (:class:`walker_channels.sql.SqlAcceptStore`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from walker_channels.models import (
    Address,
    Admission,
    Arrival,
    Channel,
    Conversation,
    InboundEvent,
    InboundMessage,
    QueuedInbound,
    SessionMark,
)
from walker_channels.models.ids import conversation_id_for
from walker_channels.ports import (
    ArrivalRecords,
    ConversationStore,
    EventStore,
    InboundQueue,
    TenantResolver,
)
from walker_channels.services.keys import inbound_key
from walker_channels.sessions import session_id_for


class StoreAccept:
    """Accept over a tenant resolver, the conversation, event and queue stores."""

    def __init__(
        self,
        *,
        tenants: TenantResolver,
        conversations: ConversationStore,
        events: EventStore,
        queue: InboundQueue,
    ) -> None:
        self._tenants = tenants
        self._conversations = conversations
        self._events = events
        self._queue = queue

    async def accept(self, recipient: Address, records: ArrivalRecords) -> Admission:
        """Upsert the conversation, queue the message, then record its inbound event."""
        tenant_id = await self._tenants.resolve(recipient)
        if tenant_id is None:
            return Admission(tenant_id=None)
        key = records.conversation_id(tenant_id)
        known = await self._conversations.get(key)
        if known is not None:
            last = known.session()
        else:
            # A conversation from before conversations were recorded: its events know it.
            last = await self._events.last_session(tenant_id, records.channel, records.participant)
        arrival = records.build(tenant_id, last)
        await self._conversations.upsert(arrival.conversation)
        # Queue first, record second: a crash in between leaves an entry that recovery finds
        # (and process() records the inbound event then); the other order could lose it.
        # Whoever queues the entry accepts it: a delivery that finds it queued is a duplicate
        # (a concurrent one, or one after a crash, whose entry recovery answers).
        queued = await self._queue.enqueue(arrival.item)
        if not queued or not await self._events.append(arrival.event):
            if queued:
                # Recorded before and no longer queued: answered already. Drop the new entry,
                # or it would hold up the conversation's next message until a sweep.
                await self._queue.complete(arrival.item.id)
            return Admission(tenant_id=tenant_id)
        return Admission(tenant_id=tenant_id, arrival=arrival)


@dataclass(frozen=True, slots=True)
class MessageArrival:
    """The service's :class:`~walker_channels.ports.ArrivalRecords` for one inbound message."""

    message: InboundMessage
    participant: str
    now: datetime
    session_timeout: timedelta

    @property
    def channel(self) -> Channel:
        """The channel the message came on."""
        return self.message.channel

    def conversation_id(self, tenant_id: str) -> str:
        """The tenant's conversation with this sender on this channel."""
        return conversation_id_for(tenant_id, self.message.channel.value, self.participant)

    def build(self, tenant_id: str, last: SessionMark | None) -> Arrival:
        """The conversation row, queue entry and inbound event, in the session ``last`` was
        in unless it went quiet for longer than the timeout."""
        message, now = self.message, self.now
        session = session_id_for(
            tenant_id,
            message.channel,
            self.participant,
            last=last,
            now=now,
            timeout=self.session_timeout,
        )
        key = self.conversation_id(tenant_id)
        conversation = Conversation(
            id=key,
            tenant_id=tenant_id,
            channel=message.channel,
            participant=self.participant,
            address=message.sender,
            reply_from=message.recipient.value,
            mode_since=now,
            last_inbound_at=message.received_at,
            last_activity_at=message.received_at,
            session_id=session,
        )
        item = QueuedInbound(
            id=message.provider_message_id,
            message=message,
            tenant_id=tenant_id,
            session_id=session,
            conversation=key,
            enqueued_at=now,
        )
        return Arrival(conversation, item, inbound_event(item, self.participant))


def inbound_event(item: QueuedInbound, participant: str) -> InboundEvent:
    """The inbound event that records the queued message (one per message, by its key)."""
    message = item.message
    return InboundEvent(
        tenant_id=item.tenant_id,
        channel=message.channel,
        participant=participant,
        occurred_at=message.received_at,
        idempotency_key=inbound_key(item.id),
        session_id=item.session_id,
        provider_message_id=item.id,
        text=message.text,
        media_count=len(message.media),
        sentiment=message.sentiment,
    )
