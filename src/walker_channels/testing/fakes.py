"""In-memory implementations of every port: for tests, the demo, and as a reference.

Each is atomic under asyncio because no ``await`` separates its check from its write.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from walker_channels.delivery import delivery_advances
from walker_channels.exceptions import AlreadyDecided, ApprovalNotFound, Conflict, NotFound
from walker_channels.models import (
    Address,
    AgentReply,
    AgentRequest,
    Approval,
    ApprovalStatus,
    BriefRunState,
    BriefSchedule,
    Channel,
    ConversationEvent,
    Decision,
    DeliveryStatus,
    HeldReply,
    InboundEvent,
    OutboundMessage,
    OutboundRecord,
    OutboundState,
    QueuedInbound,
    QueueStats,
    Scope,
    SendResult,
    SessionMark,
    Settlement,
)
from walker_channels.models.tenants import TenantNumber
from walker_channels.phones import receiving_address


class FixedClock:
    """A clock that stands still until moved."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = now

    def now(self) -> datetime:
        """The clock's current time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        self._now += delta
        return self._now

    def set(self, now: datetime) -> None:
        """Jump to ``now``."""
        self._now = now


class InMemoryEventStore:
    """An :class:`~walker_channels.ports.EventStore` in a list."""

    def __init__(self) -> None:
        self.events: list[ConversationEvent] = []
        self._keys: set[str] = set()

    async def append(self, event: ConversationEvent) -> bool:
        """Store ``event`` unless its idempotency key was seen."""
        return self.add(event)

    def add(self, event: ConversationEvent) -> bool:
        """:meth:`append` without awaiting: for a fake that writes an event with other data."""
        if event.idempotency_key is not None:
            if event.idempotency_key in self._keys:
                return False
            self._keys.add(event.idempotency_key)
        self.events.append(event)
        return True

    def remove(self, doomed: Callable[[ConversationEvent], bool]) -> int:
        """Delete the events ``doomed`` picks, and their idempotency keys (erasure)."""
        gone = [event for event in self.events if doomed(event)]
        self.events[:] = [event for event in self.events if not doomed(event)]
        self._keys.difference_update(e.idempotency_key for e in gone if e.idempotency_key)
        return len(gone)

    async def last_inbound_at(
        self, tenant_id: str, channel: Channel, participant: str
    ) -> datetime | None:
        """The latest inbound time for this person, if any."""
        times = [
            event.occurred_at
            for event in self.events
            if isinstance(event, InboundEvent)
            and event.tenant_id == tenant_id
            and event.channel is channel
            and event.participant == participant
        ]
        return max(times, default=None)

    async def last_session(
        self, tenant_id: str, channel: Channel, participant: str
    ) -> SessionMark | None:
        """The latest event of this person that carries a session id."""
        latest = max(
            (
                event
                for event in self.events
                if event.session_id is not None
                and event.tenant_id == tenant_id
                and event.channel is channel
                and event.participant == participant
            ),
            key=lambda event: event.occurred_at,
            default=None,
        )
        if latest is None or latest.session_id is None:
            return None
        return SessionMark(session_id=latest.session_id, last_at=latest.occurred_at)


def in_scope(scope: Scope, tenant_id: str | None) -> bool:
    """Whether a row of ``tenant_id`` is visible in ``scope``."""
    return scope.tenant_ids is None or tenant_id in scope.tenant_ids


class InMemoryApprovalStore:
    """An :class:`~walker_channels.ports.ApprovalStore` in a dict."""

    def __init__(self) -> None:
        self.approvals: dict[str, Approval] = {}

    async def create(self, approval: Approval) -> None:
        """Store a new approval."""
        self.approvals[approval.id] = approval

    async def get(self, approval_id: str) -> Approval | None:
        """The approval with this id."""
        return self.approvals.get(approval_id)

    async def list_pending(
        self, scope: Scope, *, limit: int = 100, offset: int = 0
    ) -> Sequence[Approval]:
        """Pending approvals in scope, oldest first."""
        pending = sorted(
            (
                a
                for a in self.approvals.values()
                if a.status is ApprovalStatus.PENDING and in_scope(scope, a.tenant_id)
            ),
            key=lambda a: (a.created_at, a.id),
        )
        return pending[offset : offset + limit]

    async def list_expired(self, now: datetime, *, limit: int = 100) -> Sequence[Approval]:
        """Pending approvals past their deadline, oldest first."""
        due = [
            a
            for a in self.approvals.values()
            if a.status is ApprovalStatus.PENDING
            and a.expires_at is not None
            and a.expires_at <= now
        ]
        return sorted(due, key=lambda a: (a.created_at, a.id))[:limit]

    async def decide(self, approval_id: str, decision: Decision) -> Approval:
        """Compare-and-set from pending."""
        current = self.approvals.get(approval_id)
        if current is None:
            raise ApprovalNotFound("no approval with that id")
        if current.status is not ApprovalStatus.PENDING:
            raise AlreadyDecided(f"the approval is {current.status.value} already")
        decided: Approval = current.replace(
            status=decision.status,
            decided_by=decision.decided_by,
            decided_at=decision.decided_at,
            final_text=decision.final_text,
        )
        self.approvals[approval_id] = decided
        return decided

    async def clear_recipient(self, approval_id: str) -> bool:
        """Forget the recipient of a decided approval."""
        current = self.approvals.get(approval_id)
        if current is None or current.status is ApprovalStatus.PENDING or not current.recipient:
            return False
        self.approvals[approval_id] = current.replace(recipient=None)
        return True


class InMemoryInboundQueue:
    """An :class:`~walker_channels.ports.InboundQueue` in a dict, with leases."""

    def __init__(self) -> None:
        self.items: dict[str, QueuedInbound] = {}
        self.leased_until: dict[str, datetime] = {}
        self.joined_to: dict[str, str] = {}

    async def enqueue(self, item: QueuedInbound) -> bool:
        """Add ``item`` unless its id is queued already."""
        if item.id in self.items:
            return False
        self.items[item.id] = item
        return True

    async def claim(
        self,
        *,
        now: datetime,
        lease: timedelta,
        limit: int = 1,
        item_id: str | None = None,
        conversation: str | None = None,
    ) -> Sequence[QueuedInbound]:
        """Lease the oldest entry of each conversation if it is free or expired, oldest first."""
        heads: dict[str, QueuedInbound] = {}
        for item in sorted(self.items.values(), key=_queue_order):
            heads.setdefault(item.conversation, item)
        free = [
            item
            for item in sorted(heads.values(), key=_queue_order)
            if (item_id is None or item.id == item_id)
            and (conversation is None or item.conversation == conversation)
            and item.id not in self.joined_to
            and self.leased_until.get(item.id, now) <= now
        ][:limit]
        claimed = []
        for item in free:
            updated: QueuedInbound = item.replace(attempts=item.attempts + 1)
            self.items[item.id] = updated
            self.leased_until[item.id] = now + lease
            claimed.append(updated)
        return claimed

    async def renew(self, item_id: str, *, now: datetime, lease: timedelta) -> bool:
        """Move the entry's lease to ``now + lease``."""
        if item_id not in self.items:
            return False
        self.leased_until[item_id] = now + lease
        return True

    async def hold_reply(self, item_id: str, reply: HeldReply) -> None:
        """Keep ``reply`` on the entry."""
        item = self.items.get(item_id)
        if item is not None:
            self.items[item_id] = item.replace(reply=reply)

    async def gather(self, item_id: str) -> Sequence[QueuedInbound]:
        """Join the entries behind ``item_id`` (while it holds no reply) and return the joined."""
        lead = self.items.get(item_id)
        if lead is None:
            return []
        if lead.reply is None:
            for item in self.items.values():
                behind = _queue_order(item) > _queue_order(lead)
                if item.conversation == lead.conversation and behind:
                    self.joined_to.setdefault(item.id, item_id)
        joined = (self.items[i] for i, lead_id in self.joined_to.items() if lead_id == item_id)
        return sorted(joined, key=_queue_order)

    async def complete(self, item_id: str) -> None:
        """Drop the entry and the entries joined to it."""
        for joined in [i for i, lead_id in self.joined_to.items() if lead_id == item_id]:
            del self.joined_to[joined]
            self.items.pop(joined, None)
        self.items.pop(item_id, None)
        self.leased_until.pop(item_id, None)

    async def stats(self, *, now: datetime) -> QueueStats:
        """Entries waiting and in progress, and when the oldest waiting one was queued."""
        own_turn = [item for item in self.items.values() if item.id not in self.joined_to]
        waiting = [item for item in own_turn if self.leased_until.get(item.id, now) <= now]
        oldest = min((item.enqueued_at for item in waiting), default=None)
        return QueueStats(
            waiting=len(waiting),
            in_progress=len(own_turn) - len(waiting),
            oldest_waiting_at=oldest,
        )


def _queue_order(item: QueuedInbound) -> tuple[datetime, str]:
    return (item.enqueued_at, item.id)


class InMemoryTenantResolver:
    """A :class:`~walker_channels.ports.TenantResolver` over a mapping of address to tenant.

    An address is owned on its channel: keys are :class:`Address` objects or strings as
    :func:`~walker_channels.phones.receiving_address` reads them (``whatsapp:+E164`` for
    WhatsApp, ``+E164`` for SMS). ``owners`` maps each address to its tenant and ``users``
    to its user; it is also a :class:`~walker_channels.ports.TenantRegistry`.
    """

    def __init__(self, numbers: Mapping[Address, str] | Mapping[str, str] | None = None) -> None:
        self.owners: dict[Address, str] = {
            receiving_address(address): tenant for address, tenant in (numbers or {}).items()
        }
        self.users: dict[Address, str | None] = {}

    async def resolve(self, recipient: Address) -> str | None:
        """The tenant that owns ``recipient`` on its channel."""
        return self.owners.get(recipient)

    async def add_number(
        self, tenant_id: str, address: Address | str, user_id: str | None = None
    ) -> None:
        """Give ``address`` to ``tenant_id``; :class:`Conflict` if another tenant owns it."""
        owned = receiving_address(address)
        if self.owners.setdefault(owned, tenant_id) != tenant_id:
            raise Conflict("that address belongs to another tenant; remove it there first")
        self.users[owned] = user_id

    async def remove_number(self, address: Address | str, *, tenant_id: str | None = None) -> bool:
        """Release ``address`` (only from ``tenant_id`` when given)."""
        owned = receiving_address(address)
        if owned not in self.owners or tenant_id not in (None, self.owners[owned]):
            return False
        del self.owners[owned]
        self.users.pop(owned, None)
        return True

    async def numbers(self, tenant_id: str) -> Sequence[TenantNumber]:
        """Every address of ``tenant_id``, in address then channel order."""
        owned = [a for a, owner in self.owners.items() if owner == tenant_id]
        return [
            TenantNumber(
                address=a.value, channel=a.channel, tenant_id=tenant_id, user_id=self.users.get(a)
            )
            for a in sorted(owned, key=lambda a: (a.value, a.channel.value))
        ]

    async def tenants(self) -> Sequence[str]:
        """The ids of the tenants that own an address, in order."""
        return sorted(set(self.owners.values()))


class InMemoryOutboundLedger:
    """An :class:`~walker_channels.ports.OutboundLedger` in a dict.

    Settlements append their event to ``events`` (the store set's event store, or one of its
    own) with no ``await`` between the check and the writes, so both happen or neither.
    """

    def __init__(self, events: InMemoryEventStore | None = None) -> None:
        self.records: dict[str, OutboundRecord] = {}
        self.events = events if events is not None else InMemoryEventStore()

    async def reserve(self, record: OutboundRecord) -> bool:
        """Store ``record`` unless its key exists."""
        if record.key in self.records:
            return False
        self.records[record.key] = record
        return True

    async def get(self, key: str) -> OutboundRecord | None:
        """The record with this key."""
        return self.records.get(key)

    async def retry(self, key: str, *, at: datetime, attempts: int | None = None) -> bool:
        """Move a ``failed`` record back to ``pending``."""
        record = self.records.get(key)
        if record is None or record.state is not OutboundState.FAILED:
            return False
        if attempts is not None and record.attempts != attempts:
            return False
        self.records[key] = record.replace(
            state=OutboundState.PENDING,
            updated_at=at,
            error_code=None,
            next_attempt_at=None,
            attempts=record.attempts + 1,
        )
        return True

    async def settle(
        self, key: str, settlement: Settlement, *, event: ConversationEvent | None = None
    ) -> bool:
        """Settle from one of the expected states and append ``event``, at once."""
        record = self.records.get(key)
        if record is None:
            raise NotFound("no outbound record with that key")
        if record.state not in settlement.expected:
            return False
        self.records[key] = record.replace(
            state=settlement.state,
            updated_at=settlement.at,
            provider_message_id=settlement.provider_message_id or record.provider_message_id,
            error_code=settlement.error_code,
            next_attempt_at=settlement.next_attempt_at,
            payload=record.payload if settlement.keeps_payload else None,
        )
        if event is not None:
            self.events.add(event)
        return True

    async def due(
        self, now: datetime, *, stale_before: datetime | None = None, limit: int = 100
    ) -> Sequence[OutboundRecord]:
        """Open records whose next attempt is due, and stale pending ones, soonest first."""

        def is_due(r: OutboundRecord) -> bool:
            if r.state is OutboundState.PENDING:
                return stale_before is not None and r.updated_at < stale_before
            return r.state in _OPEN and r.next_attempt_at is not None and r.next_attempt_at <= now

        due = [r for r in self.records.values() if is_due(r)]
        return sorted(due, key=lambda r: (r.next_attempt_at or r.updated_at, r.key))[:limit]

    async def unsettled(
        self, scope: Scope, *, key_prefix: str | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[OutboundRecord]:
        """Unknown and failed records in ``scope``, oldest first."""
        found = sorted(
            (
                r
                for r in self.records.values()
                if r.state in _OPEN
                and in_scope(scope, r.tenant_id)
                and (key_prefix is None or r.key.startswith(key_prefix))
            ),
            key=lambda r: (r.created_at, r.key),
        )
        return found[offset : offset + limit]

    async def advance_delivery(
        self,
        *,
        provider_message_id: str,
        status: DeliveryStatus,
        at: datetime,
        key: str | None = None,
    ) -> OutboundRecord | None:
        """Apply ``status`` if it moves the record on."""
        record = (
            self.records.get(key) if key is not None else self._by_provider_id(provider_message_id)
        )
        if record is None or not delivery_advances(record.delivery_status, status):
            return None
        unknown = record.state is OutboundState.UNKNOWN
        updated: OutboundRecord = record.replace(
            delivery_status=status,
            provider_message_id=provider_message_id,
            state=OutboundState.SENT if unknown else record.state,
            next_attempt_at=None if unknown else record.next_attempt_at,
            updated_at=at,
        )
        self.records[record.key] = updated
        return updated

    def _by_provider_id(self, provider_message_id: str) -> OutboundRecord | None:
        pid = provider_message_id
        matching = (r for r in self.records.values() if r.provider_message_id == pid)
        return min(matching, key=lambda r: (r.created_at, r.key), default=None)


_OPEN = frozenset({OutboundState.UNKNOWN, OutboundState.FAILED})


class InMemoryBriefScheduleStore:
    """A :class:`~walker_channels.ports.BriefScheduleStore` in dicts (keyed by schedule and day)."""

    def __init__(self) -> None:
        self.schedules: dict[str, BriefSchedule] = {}
        self.runs: dict[tuple[str, date], BriefRunState] = {}
        self.claimed_at: dict[tuple[str, date], datetime] = {}
        self.errors: dict[tuple[str, date], str] = {}

    async def save(self, schedule: BriefSchedule) -> None:
        """Insert or replace by id."""
        self.schedules[schedule.id] = schedule

    async def list_active(self) -> Sequence[BriefSchedule]:
        """Active schedules, oldest first."""
        return sorted(
            (s for s in self.schedules.values() if s.active), key=lambda s: (s.created_at, s.id)
        )

    async def claim_run(
        self, schedule_id: str, local_date: date, *, at: datetime, lease: timedelta
    ) -> bool:
        """Claim the day's run unless it is sent, abandoned, or running under a live lease."""
        key = (schedule_id, local_date)
        state = self.runs.get(key)
        expired = state is BriefRunState.RUNNING and self.claimed_at[key] <= at - lease
        if state not in (None, BriefRunState.FAILED) and not expired:
            return False
        self.runs[key] = BriefRunState.RUNNING
        self.claimed_at[key] = at
        self.errors.setdefault(key, "")
        return True

    async def finish_run(
        self,
        schedule_id: str,
        local_date: date,
        *,
        claimed_at: datetime,
        state: BriefRunState,
        at: datetime,
        error: str = "",
    ) -> bool:
        """Record the outcome, unless the claim made at ``claimed_at`` was taken over."""
        key = (schedule_id, local_date)
        if self.runs.get(key) is not BriefRunState.RUNNING or self.claimed_at[key] != claimed_at:
            return False
        self.runs[key] = state
        self.errors[key] = error
        return True


class RecordingTransport:
    """A :class:`~walker_channels.ports.MessageTransport` that records instead of sending.

    ``fail_with`` queues exceptions raised by the next sends, in order. ``max_text_length``
    makes the flows split longer replies into parts, as a provider's limit does.
    """

    def __init__(
        self, channel: Channel = Channel.WHATSAPP, *, max_text_length: int | None = None
    ) -> None:
        self._channel = channel
        self.max_text_length = max_text_length
        self.sent: list[OutboundMessage] = []
        self.failures: list[BaseException] = []
        self._ids = itertools.count(1)

    @property
    def channel(self) -> Channel:
        """The channel this transport pretends to send on."""
        return self._channel

    def fail_with(self, *errors: BaseException) -> None:
        """Make the next ``len(errors)`` sends raise these, in order."""
        self.failures.extend(errors)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Record ``message`` (or raise the next queued failure)."""
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SendResult(
            channel=message.channel,
            provider_message_id=f"SM{next(self._ids):032x}",
            status=DeliveryStatus.QUEUED,
        )


ScriptStep = AgentReply | BaseException | Callable[[AgentRequest], AgentReply]


class ScriptedAgent:
    """An :class:`~walker_channels.ports.AgentRunner` that follows a script.

    Each run takes the next step: a reply is returned, an exception raised, a callable called
    with the request. When the script is used up, ``default`` answers (or the run fails).
    ``delay`` seconds pass before each answer, to exercise timeouts.
    """

    def __init__(
        self,
        script: Iterable[ScriptStep] = (),
        *,
        default: ScriptStep | None = None,
        delay: float = 0.0,
    ) -> None:
        self.script = list(script)
        self.default = default
        self.delay = delay
        self.requests: list[AgentRequest] = []

    async def run(self, request: AgentRequest) -> AgentReply:
        """Answer with the next scripted step."""
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        step = self.script.pop(0) if self.script else self.default
        if step is None:
            raise AssertionError("ScriptedAgent ran out of script")
        if isinstance(step, BaseException):
            raise step
        return step if isinstance(step, AgentReply) else step(request)
