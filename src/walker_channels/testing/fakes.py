"""In-memory implementations of every port: for tests, the demo, and as a reference.

Each is atomic under asyncio because no ``await`` separates its check from its write.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from walker_channels.delivery import delivery_advances
from walker_channels.exceptions import AlreadyDecided, ApprovalNotFound
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
    InboundEvent,
    OutboundMessage,
    OutboundRecord,
    OutboundState,
    QueuedInbound,
    Scope,
    SendResult,
    SessionMark,
)


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
        if event.idempotency_key is not None:
            if event.idempotency_key in self._keys:
                return False
            self._keys.add(event.idempotency_key)
        self.events.append(event)
        return True

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


class InMemoryInboundQueue:
    """An :class:`~walker_channels.ports.InboundQueue` in a dict, with leases."""

    def __init__(self) -> None:
        self.items: dict[str, QueuedInbound] = {}
        self.leased_until: dict[str, datetime] = {}

    async def enqueue(self, item: QueuedInbound) -> bool:
        """Add ``item`` unless its id is queued already."""
        if item.id in self.items:
            return False
        self.items[item.id] = item
        return True

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int = 1, item_id: str | None = None
    ) -> Sequence[QueuedInbound]:
        """Lease free or expired entries, oldest first."""
        free = sorted(
            (
                item
                for item in self.items.values()
                if (item_id is None or item.id == item_id)
                and self.leased_until.get(item.id, now) <= now
            ),
            key=lambda item: (item.enqueued_at, item.id),
        )[:limit]
        claimed = []
        for item in free:
            updated: QueuedInbound = item.replace(attempts=item.attempts + 1)
            self.items[item.id] = updated
            self.leased_until[item.id] = now + lease
            claimed.append(updated)
        return claimed

    async def complete(self, item_id: str) -> None:
        """Drop the entry."""
        self.items.pop(item_id, None)
        self.leased_until.pop(item_id, None)


class InMemoryTenantResolver:
    """A :class:`~walker_channels.ports.TenantResolver` over a mapping of address to tenant."""

    def __init__(self, numbers: Mapping[str, str] | None = None) -> None:
        self.numbers: dict[str, str] = dict(numbers or {})

    async def resolve(self, recipient: Address) -> str | None:
        """The tenant that owns ``recipient`` (matched by its E.164 value or email)."""
        return self.numbers.get(recipient.value)


class InMemoryOutboundLedger:
    """An :class:`~walker_channels.ports.OutboundLedger` in a dict."""

    def __init__(self) -> None:
        self.records: dict[str, OutboundRecord] = {}

    async def reserve(self, record: OutboundRecord) -> bool:
        """Store ``record`` unless its key exists."""
        if record.key in self.records:
            return False
        self.records[record.key] = record
        return True

    async def get(self, key: str) -> OutboundRecord | None:
        """The record with this key."""
        return self.records.get(key)

    async def retry(self, key: str, *, at: datetime) -> bool:
        """Move a ``failed`` record back to ``pending``."""
        record = self.records.get(key)
        if record is None or record.state is not OutboundState.FAILED:
            return False
        self.records[key] = record.replace(state=OutboundState.PENDING, updated_at=at)
        return True

    async def settle(
        self,
        key: str,
        *,
        state: OutboundState,
        at: datetime,
        provider_message_id: str | None = None,
        error_code: str | None = None,
    ) -> None:
        """Record how the send ended."""
        record = self.records[key]
        self.records[key] = record.replace(
            state=state,
            updated_at=at,
            provider_message_id=provider_message_id or record.provider_message_id,
            error_code=error_code,
        )

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
        state = OutboundState.SENT if record.state is OutboundState.UNKNOWN else record.state
        updated: OutboundRecord = record.replace(
            delivery_status=status,
            provider_message_id=provider_message_id,
            state=state,
            updated_at=at,
        )
        self.records[record.key] = updated
        return updated

    def _by_provider_id(self, provider_message_id: str) -> OutboundRecord | None:
        return next(
            (r for r in self.records.values() if r.provider_message_id == provider_message_id),
            None,
        )


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

    ``fail_with`` queues exceptions raised by the next sends, in order.
    """

    def __init__(self, channel: Channel = Channel.WHATSAPP) -> None:
        self._channel = channel
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
