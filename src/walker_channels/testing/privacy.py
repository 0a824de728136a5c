"""Erasure and retention over the in-memory fakes: the twin of ``walker_channels.sql.privacy``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from walker_channels.models import (
    ApprovalStatus,
    ConversationEvent,
    ErasureRecord,
    ErasureRequest,
    RetentionReport,
)
from walker_channels.testing.conversations import InMemoryConversationStore
from walker_channels.testing.fakes import (
    InMemoryApprovalStore,
    InMemoryBriefScheduleStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
)

T = TypeVar("T")


class InMemoryPrivacyStore:
    """A :class:`~walker_channels.ports.PrivacyStore` over the fakes it is given."""

    def __init__(
        self,
        *,
        events: InMemoryEventStore,
        approvals: InMemoryApprovalStore,
        ledger: InMemoryOutboundLedger,
        inbox: InMemoryInboundQueue,
        tenants: InMemoryTenantResolver,
        schedules: InMemoryBriefScheduleStore,
        conversations: InMemoryConversationStore | None = None,
    ) -> None:
        self._events = events
        self._approvals = approvals
        self._ledger = ledger
        self._inbox = inbox
        self._tenants = tenants
        self._schedules = schedules
        self._conversations = conversations or InMemoryConversationStore(events)
        self.records: list[ErasureRecord] = []

    async def erase(self, request: ErasureRequest) -> ErasureRecord:
        """Drop the person's entries from every fake and keep the record."""
        tenant, person = request.tenant_id, request.participant
        removed = {
            "events": self._erase_events(tenant, person),
            "approvals": _drop(
                self._approvals.approvals,
                lambda a: a.participant == person and a.tenant_id == tenant,
            ),
            "outbound": _drop(
                self._ledger.records,
                lambda r: r.participant == person and r.tenant_id in (tenant, None),
            ),
            "inbound_queue": self._erase_queue(tenant, request.address),
            "tenant_numbers": self._erase_numbers(tenant, request.address),
            "brief_schedules": self._erase_schedules(tenant, request.address),
            "conversations": self._conversations.erase(tenant, person),
        }
        record = ErasureRecord(
            id=request.id,
            tenant_id=tenant,
            participant=person,
            requested_by=request.requested_by,
            erased_at=request.at,
            removed=removed,
        )
        self.records.append(record)
        return record

    async def erasures(self, tenant_id: str) -> Sequence[ErasureRecord]:
        """The records of ``tenant_id``, oldest first."""
        mine = (r for r in self.records if r.tenant_id == tenant_id)
        return sorted(mine, key=lambda r: (r.erased_at, r.id))

    async def purge_text(
        self, before: datetime, *, since: datetime | None = None, limit: int = 1000
    ) -> RetentionReport:
        """Blank the text of old events and decided drafts, at most ``limit`` of each."""
        if limit < 1:
            raise ValueError("limit must be at least 1")

        def due(at: datetime | None) -> bool:
            return at is not None and at < before and (since is None or at >= since)

        counts = {
            "events": self._purge_events(due, limit),
            "approvals": self._purge_approvals(due, limit),
            "sends": self._purge_sends(due, limit),
        }
        return RetentionReport(**counts, complete=max(counts.values()) < limit)

    def _erase_events(self, tenant: str, person: str) -> int:
        return self._events.remove(
            lambda e: e.participant == person and e.tenant_id in (tenant, None)
        )

    def _erase_queue(self, tenant: str, address: str) -> int:
        inbox = self._inbox
        ids = {
            i
            for i, item in inbox.items.items()
            if item.tenant_id == tenant and item.message.sender.value == address
        }
        for item_id in ids:
            inbox.items.pop(item_id, None)
            inbox.leased_until.pop(item_id, None)
            inbox.joined_to.pop(item_id, None)
        return len(ids)

    def _erase_numbers(self, tenant: str, address: str) -> int:
        numbers = self._tenants.owners
        gone = [
            k
            for k, owner in numbers.items()
            if owner == tenant and k.value.lower() == address.lower()
        ]
        for key in gone:
            del numbers[key]
        return len(gone)

    def _erase_schedules(self, tenant: str, address: str) -> int:
        store = self._schedules
        ids = {
            s.id
            for s in store.schedules.values()
            if s.tenant_id == tenant and s.recipient_email.lower() == address.lower()
        }
        for runs in (store.runs, store.claimed_at, store.errors):
            for key in [k for k in runs if k[0] in ids]:
                del runs[key]
        for schedule_id in ids:
            del store.schedules[schedule_id]
        return len(ids)

    def _purge_events(self, due: Callable[[datetime | None], bool], limit: int) -> int:
        store, purged = self._events, 0
        ordered = sorted(enumerate(store.events), key=lambda pair: pair[1].occurred_at)
        for index, event in ordered:
            if purged == limit:
                break
            if due(event.occurred_at) and getattr(event, "text", None):
                blank: ConversationEvent = event.replace(text="")
                store.events[index] = blank
                purged += 1
        return purged

    def _purge_approvals(self, due: Callable[[datetime | None], bool], limit: int) -> int:
        store, purged = self._approvals.approvals, 0
        for approval in sorted(store.values(), key=lambda a: (a.decided_at or a.created_at, a.id)):
            if purged == limit:
                break
            decided = approval.status is not ApprovalStatus.PENDING
            holds = approval.proposed_text or approval.final_text is not None or approval.recipient
            if decided and holds and due(approval.decided_at):
                store[approval.id] = approval.replace(
                    proposed_text="", final_text=None, recipient=None
                )
                purged += 1
        return purged

    def _purge_sends(self, due: Callable[[datetime | None], bool], limit: int) -> int:
        records, purged = self._ledger.records, 0
        for record in sorted(records.values(), key=lambda r: (r.created_at, r.key)):
            if purged == limit:
                break
            if record.payload is not None and due(record.created_at):
                records[record.key] = record.replace(payload=None, next_attempt_at=None)
                purged += 1
        return purged


def _drop(table: dict[str, T], doomed: Callable[[T], bool]) -> int:
    """Remove the entries of ``table`` whose value is ``doomed``."""
    gone = [k for k, v in table.items() if doomed(v)]
    for key in gone:
        del table[key]
    return len(gone)
