"""A :class:`~walker_channels.ports.TurnStore` made of the separate store ports, the keys
the conversation flow finds a claimed entry's records by, and how an answered entry completes.

For stores that cannot read several records in one transaction (the in-memory ones, a host's
own): the claim, then each record on its own. The SQL stores have their own, one transaction
(:class:`walker_channels.sql.SqlTurnStore`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from walker_channels.models import (
    Claim,
    ConsentState,
    ConversationEvent,
    InboundEvent,
    OutboundRecord,
    QueuedInbound,
    Settlement,
    Turn,
)
from walker_channels.ports import (
    ApprovalStore,
    ConsentStore,
    ConversationStore,
    EventStore,
    InboundQueue,
    SettlingTurnStore,
    TenantSettingsStore,
    TurnRecords,
    TurnStore,
)
from walker_channels.services.config import ServiceConfig
from walker_channels.services.intake import inbound_event
from walker_channels.services.keys import approval_id_for
from walker_channels.services.sending import SendPurpose, SettleSent

SendRecord = Callable[[str], Awaitable[OutboundRecord | None]]
"""The ledger record of a key (``OutboundLedger.get``, ``OutboundSender.record``)."""


@dataclass(frozen=True, slots=True)
class TurnKeys:
    """The conversation flow's :class:`~walker_channels.ports.TurnRecords`."""

    config: ServiceConfig

    def inbound_event(self, item: QueuedInbound) -> InboundEvent:
        """The entry's inbound event, under the sender's pseudonym."""
        return inbound_event(item, self.config.pseudonym(item.message.sender.value))

    def approval_id(self, item: QueuedInbound) -> str:
        """The approval an escalation of the entry creates."""
        return approval_id_for(item.tenant_id, item.id)

    def reply_key(self, item: QueuedInbound) -> str:
        """The ledger key of the reply's first part."""
        return SendPurpose.REPLY.key(item.id)


class StoreTurns:
    """Claims over the queue, then each record from its own store, one after another.

    Without ``consent`` and ``settings`` a turn carries no :class:`ConsentState`.
    """

    def __init__(
        self,
        *,
        queue: InboundQueue,
        events: EventStore,
        approvals: ApprovalStore,
        conversations: ConversationStore,
        send_record: SendRecord,
        consent: ConsentStore | None = None,
        settings: TenantSettingsStore | None = None,
    ) -> None:
        self._queue = queue
        self._events = events
        self._approvals = approvals
        self._conversations = conversations
        self._send_record = send_record
        self._consent = consent
        self._settings = settings

    async def claim(self, claim: Claim, records: TurnRecords) -> Sequence[Turn]:
        """Lease the entries, record each one's inbound event if missing, read the rest."""
        claimed = await self._queue.claim(
            now=claim.now,
            lease=claim.lease,
            limit=claim.limit,
            item_id=claim.item_id,
            conversation=claim.conversation,
        )
        return [await self._turn(item, records) for item in claimed]

    async def complete(
        self, item_id: str, records: TurnRecords, *, then: Claim | None = None
    ) -> Sequence[Turn]:
        """Complete ``item_id``; then claim as :meth:`claim` with ``then``."""
        await self._queue.complete(item_id)
        return () if then is None else await self.claim(then, records)

    async def _turn(self, item: QueuedInbound, records: TurnRecords) -> Turn:
        event = records.inbound_event(item)
        return Turn(
            item=item,
            recorded=event if await self._events.append(event) else None,
            approval=await self._approvals.get(records.approval_id(item)),
            reply_send=await self._send_record(records.reply_key(item)),
            conversation=await self._conversations.get(item.conversation),
            consent=await self._consent_of(item, event.participant),
        )

    async def _consent_of(self, item: QueuedInbound, participant: str) -> ConsentState | None:
        if self._consent is None or self._settings is None:
            return None
        channel = item.message.channel
        return ConsentState(
            settings=await self._settings.get(item.tenant_id),
            opted_out=await self._consent.is_opted_out(item.tenant_id, channel, participant),
        )


@dataclass(slots=True)
class Completion:
    """How a claimed entry completes once answered: in the settlement of the reply that
    answered it, where the turn store can (a :class:`~walker_channels.ports.SettlingTurnStore`),
    else on its own after the answer. ``then`` makes the claim of what comes next (at the
    moment of the completion), or ``None``."""

    turns: TurnStore
    item_id: str
    records: TurnRecords
    then: Callable[[], Claim | None]
    claimed: Sequence[Turn] | None = None
    """What the completion claimed, once it ran."""

    def settle_sent(self) -> SettleSent | None:
        """What settles the answering reply if it goes out: with the completion, or ``None``
        (the ledger settles it, and :meth:`finish` completes)."""
        turns = self.turns
        if not isinstance(turns, SettlingTurnStore):
            return None

        async def settle(key: str, settlement: Settlement, event: ConversationEvent | None) -> bool:
            settled, self.claimed = await turns.settle_and_complete(
                key, settlement, event, item_id=self.item_id, records=self.records, then=self.then()
            )
            return settled

        return settle

    async def finish(self) -> Sequence[Turn]:
        """Complete the entry unless the reply's settlement did; what the completion claimed."""
        if self.claimed is None:
            self.claimed = await self.turns.complete(self.item_id, self.records, then=self.then())
        return self.claimed
