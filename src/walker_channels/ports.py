"""Ports: the small async Protocols that transports, agents and stores implement.

Implementations do not inherit from these; they only need the same methods. Each port has a
fake and a contract suite in :mod:`walker_channels.testing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from walker_channels.models import (
    Address,
    AgentAnalytics,
    AgentReply,
    AgentRequest,
    Approval,
    BriefMetric,
    BriefRunState,
    BriefSchedule,
    CampaignUpdate,
    Channel,
    ConversationEvent,
    ConversationStats,
    Decision,
    DeliveryStatus,
    LogEntry,
    LogQuery,
    OutboundMessage,
    OutboundRecord,
    OutboundState,
    Page,
    QueuedInbound,
    Scope,
    SendResult,
    SessionMark,
    StatsQuery,
)


class Clock(Protocol):
    """Where services get the time from (a fixed clock in tests)."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class MessageTransport(Protocol):
    """Sends messages on one channel.

    Raises :class:`~walker_channels.exceptions.TransportError` (or a subclass) on failure, with
    ``retryable`` telling whether sending again can help.
    """

    @property
    def channel(self) -> Channel:
        """The channel this transport sends on."""
        ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Hand ``message`` to the provider."""
        ...


class AgentRunner(Protocol):
    """Runs an agent for one conversation turn."""

    async def run(self, request: AgentRequest) -> AgentReply:
        """Answer ``request``; raise :class:`~walker_channels.exceptions.AgentError` on failure."""
        ...


class EventStore(Protocol):
    """The append-only conversation log."""

    async def append(self, event: ConversationEvent) -> bool:
        """Store ``event``; ``False`` (and nothing stored) if its idempotency key exists already.

        Must be atomic: of concurrent appends with one key, exactly one returns ``True``.
        """
        ...

    async def last_inbound_at(
        self, tenant_id: str, channel: Channel, participant: str
    ) -> datetime | None:
        """When this person last wrote to this tenant on this channel, if ever."""
        ...

    async def last_session(
        self, tenant_id: str, channel: Channel, participant: str
    ) -> SessionMark | None:
        """The session id and time of this person's latest event that carries a session id."""
        ...


class ApprovalStore(Protocol):
    """Drafts waiting for review, with an atomic decision."""

    async def create(self, approval: Approval) -> None:
        """Store a new pending approval."""
        ...

    async def get(self, approval_id: str) -> Approval | None:
        """The approval with this id, if any."""
        ...

    async def list_pending(
        self, scope: Scope, *, limit: int = 100, offset: int = 0
    ) -> Sequence[Approval]:
        """Pending approvals visible in ``scope``, oldest first."""
        ...

    async def list_expired(self, now: datetime, *, limit: int = 100) -> Sequence[Approval]:
        """Pending approvals whose ``expires_at`` is at or before ``now``, oldest first."""
        ...

    async def decide(self, approval_id: str, decision: Decision) -> Approval:
        """Move a pending approval to ``decision.status`` and return it.

        Compare-and-set: raises :class:`~walker_channels.exceptions.AlreadyDecided` unless the
        approval is still pending, so of concurrent decisions exactly one wins, and
        :class:`~walker_channels.exceptions.ApprovalNotFound` for an unknown id.
        """
        ...


class InboundQueue(Protocol):
    """Accepted inbound messages waiting for the agent, so a crash loses none of them.

    A claimed entry is leased: if its worker dies, the lease runs out and another claims it.
    """

    async def enqueue(self, item: QueuedInbound) -> bool:
        """Add ``item``; ``False`` if an entry with its id exists already."""
        ...

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int = 1, item_id: str | None = None
    ) -> Sequence[QueuedInbound]:
        """Lease up to ``limit`` entries that are unclaimed or whose lease ran out, oldest first.

        ``item_id`` restricts the claim to that entry. Each claim adds one to ``attempts``.
        Atomic: concurrent claimers never receive the same entry under a live lease.
        """
        ...

    async def complete(self, item_id: str) -> None:
        """Remove a processed entry."""
        ...


class TenantResolver(Protocol):
    """Which tenant owns the address a message was sent to."""

    async def resolve(self, recipient: Address) -> str | None:
        """The tenant id, or ``None`` for an address no tenant owns."""
        ...


class OutboundLedger(Protocol):
    """One record per intended send, reserved before the provider is called."""

    async def reserve(self, record: OutboundRecord) -> bool:
        """Store ``record``; ``False`` if its key exists already (then do not send).

        Must be atomic: of concurrent reservations of one key, exactly one returns ``True``.
        """
        ...

    async def get(self, key: str) -> OutboundRecord | None:
        """The record with this key, if any."""
        ...

    async def retry(self, key: str, *, at: datetime) -> bool:
        """Reserve again a send the provider refused: ``failed`` -> ``pending``.

        ``True`` only for a record that is ``failed`` (nothing went out), never for ``pending``,
        ``sent`` or ``unknown``. Must be atomic: of concurrent retries exactly one wins.
        """
        ...

    async def settle(
        self,
        key: str,
        *,
        state: OutboundState,
        at: datetime,
        provider_message_id: str | None = None,
        error_code: str | None = None,
    ) -> None:
        """Record how the send ended (sent, failed, or unknown)."""
        ...

    async def advance_delivery(
        self,
        *,
        provider_message_id: str,
        status: DeliveryStatus,
        at: datetime,
        key: str | None = None,
    ) -> OutboundRecord | None:
        """Apply a delivery status if it is later than the current one.

        The record is found by ``key`` when given (a send whose outcome was unknown has no
        provider id yet), else by ``provider_message_id``. Returns the updated record, or
        ``None`` when nothing matched or the status would go backwards.
        """
        ...


class BriefScheduleStore(Protocol):
    """Daily-brief schedules and the once-per-local-day claim on each run."""

    async def save(self, schedule: BriefSchedule) -> None:
        """Insert or replace a schedule (by id)."""
        ...

    async def list_active(self) -> Sequence[BriefSchedule]:
        """Every active schedule."""
        ...

    async def claim_run(
        self, schedule_id: str, local_date: date, *, at: datetime, lease: timedelta
    ) -> bool:
        """Claim the run of ``schedule_id`` for ``local_date`` at ``at``.

        ``True`` for exactly one caller per schedule and day, in one atomic step (also among
        concurrent callers). The day may be claimed again when its run ``failed`` (the retry),
        or when it is still ``running`` but was claimed ``lease`` or longer before ``at`` (its
        worker is taken for dead). A ``sent`` or ``abandoned`` day is never claimed again.
        """
        ...

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
        """Record the outcome (``sent``, ``failed`` or ``abandoned``) of the claim made at
        ``claimed_at``, with a short error for the operator.

        ``False``, recording nothing, when that claim is no longer the day's running one (its
        lease ran out and another caller took the run over).
        """
        ...


class BriefDataSource(Protocol):
    """Where a daily brief's figures and campaign news come from (the host application)."""

    async def analytics(self, tenant_id: str, user_id: str, day: date) -> Sequence[BriefMetric]:
        """The figures to report to ``user_id`` of ``tenant_id`` for ``day`` (their local date)."""
        ...

    async def campaign_updates(
        self, tenant_id: str, user_id: str, day: date
    ) -> Sequence[CampaignUpdate]:
        """The campaign news to report to ``user_id`` of ``tenant_id`` for ``day``."""
        ...


class MonitoringReader(Protocol):
    """The admin read side: logs and aggregates, anonymised and scoped."""

    async def logs(self, query: LogQuery) -> Page[LogEntry]:
        """A page of the conversation log, newest first."""
        ...

    async def stats(self, query: StatsQuery) -> ConversationStats:
        """Aggregate statistics."""
        ...

    async def agent_analytics(self, query: StatsQuery) -> Sequence[AgentAnalytics]:
        """Per-agent analytics, busiest agent first."""
        ...


class ReviewNotifier(Protocol):
    """The host's way to remind reviewers (email, chat, paging) of a draft past its deadline."""

    async def approval_overdue(self, approval: Approval) -> None:
        """Remind reviewers of ``approval``; never forward its ``recipient`` address."""
        ...
