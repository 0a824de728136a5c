"""Ports: the small async Protocols that transports, agents and stores implement.

Implementations do not inherit from these; they only need the same methods. Each port has a
fake and a contract suite in :mod:`walker_channels.testing`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from walker_channels.models import (
    Address,
    Admission,
    AgentAnalytics,
    AgentReply,
    AgentRequest,
    Approval,
    Arrival,
    BriefMetric,
    BriefRunState,
    BriefSchedule,
    CampaignUpdate,
    Channel,
    Claim,
    Conversation,
    ConversationEvent,
    ConversationMode,
    ConversationQuery,
    ConversationStats,
    Decision,
    DeliveryStatus,
    DeliveryStatusEvent,
    ErasureRecord,
    ErasureRequest,
    HandoffEndedEvent,
    HandoffStartedEvent,
    HeldReply,
    InboundEvent,
    LogEntry,
    LogQuery,
    LookupResult,
    OptOut,
    OutboundFailedEvent,
    OutboundMessage,
    OutboundRecord,
    Page,
    QueuedInbound,
    QueueStats,
    RetentionReport,
    Scope,
    SendResult,
    SessionMark,
    Settlement,
    StatsQuery,
    TenantSettings,
    Turn,
)
from walker_channels.models.tenants import TenantNumber
from walker_channels.models.webhooks import WebhookBatch, WebhookRequest


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


@runtime_checkable
class TextLimited(Protocol):
    """Optional for a :class:`MessageTransport`: the longest text one message may carry.

    Long agent replies are sent in parts of at most this many UTF-16 code units
    (:func:`walker_channels.texts.split_text`); ``None`` (or a transport without the property)
    means no limit.
    """

    @property
    def max_text_length(self) -> int | None:
        """The limit, in UTF-16 code units, or ``None``."""
        ...


@runtime_checkable
class SendLookup(Protocol):
    """Optional for a :class:`MessageTransport`: ask the provider whether a message went out.

    Used to settle a send whose outcome was unknown. Raises
    :class:`~walker_channels.exceptions.TransportError` when the provider cannot be asked.
    """

    async def look_up(self, message: OutboundMessage, *, since: datetime) -> LookupResult:
        """Whether the provider has ``message``, sent at ``since`` or later."""
        ...


class Pacer(Protocol):
    """Holds the requests of one key (a sender, a tenant) to a rate: returns when the next may
    go. Raises a retryable :class:`~walker_channels.exceptions.TransportError`, before anything
    is sent, when the store that counts them cannot be reached."""

    async def wait_turn(self, key: str) -> None:
        """Return when ``key`` may make its next request."""
        ...

    async def aclose(self) -> None:
        """Release what the pacer holds (a connection pool)."""
        ...


class SentimentScorer(Protocol):
    """Scores how a person's message reads: -1 (upset) to 1 (happy), 0 neutral.

    Synchronous: it runs on the event loop as a message is accepted, so it must be pure CPU
    work of about a millisecond (``walker_channels.sentiment.VaderScorer``); a scorer that
    needs I/O (a model server) does not fit here. Never given an empty text.
    """

    def score(self, text: str) -> float:
        """The score of ``text``, in ``[-1, 1]``."""
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

    async def clear_recipient(self, approval_id: str) -> bool:
        """Forget the raw address of a decided approval (its ``recipient`` becomes ``None``).

        ``True`` when an address was cleared; ``False`` for a pending approval (which keeps
        it), an unknown id, or one cleared already. Call it once no send can need the address.
        """
        ...


class InboundQueue(Protocol):
    """Accepted inbound messages waiting for the agent, so a crash loses none of them.

    A claimed entry is leased: if its worker dies, the lease runs out and another claims it.
    The entries of one conversation are claimed one at a time, in order: only the oldest entry
    of a conversation can be claimed, so a second message waits until the first is completed.
    """

    async def enqueue(self, item: QueuedInbound) -> bool:
        """Add ``item``; ``False`` if an entry with its id exists already."""
        ...

    async def claim(
        self,
        *,
        now: datetime,
        lease: timedelta,
        limit: int = 1,
        item_id: str | None = None,
        conversation: str | None = None,
    ) -> Sequence[QueuedInbound]:
        """Lease up to ``limit`` entries that are unclaimed or whose lease ran out, oldest first.

        Only the oldest entry of each conversation is eligible. ``item_id`` restricts the claim
        to that entry, ``conversation`` to that conversation. Each claim adds one to
        ``attempts``. Atomic: concurrent claimers never receive the same entry under a live
        lease, nor two entries of one conversation.
        """
        ...

    async def renew(self, item_id: str, *, now: datetime, lease: timedelta) -> bool:
        """Extend the lease of a claimed entry to ``now + lease``; ``False`` if it is gone."""
        ...

    async def hold_reply(self, item_id: str, reply: HeldReply) -> None:
        """Keep the reply being sent with the entry (returned as ``reply`` by later claims)."""
        ...

    async def gather(self, item_id: str) -> Sequence[QueuedInbound]:
        """Join the entries waiting behind ``item_id`` in its conversation to its turn.

        Returns every entry joined to it, oldest first. Entries join only while the entry has
        no held reply, so after a crash the same turn is rebuilt. Joined entries are never
        claimed on their own and are removed with it by :meth:`complete`.
        """
        ...

    async def complete(self, item_id: str) -> None:
        """Remove a processed entry and the entries joined to it."""
        ...

    async def stats(self, *, now: datetime) -> QueueStats:
        """How many entries wait (free, or their lease ran out) and are in progress at
        ``now``, and when the oldest waiting one was queued; joined entries count with
        neither. A failure to read raises :class:`~walker_channels.exceptions.StoreError`."""
        ...


AfterResponse = Callable[[], Awaitable[None]]
"""Work a web adapter runs once the response is sent (its background-task mechanism)."""


class Dispatcher(Protocol):
    """Hands an accepted message to whatever answers it: a background task, a worker, a task
    engine (Celery, taskiq).

    A dispatch is only a hint: the :class:`InboundQueue` stays the record. A lost dispatch is
    finished by the sweeper once the message's lease runs out, and a duplicate one is harmless
    (the leased claim answers ``NOT_CLAIMED``), so a dispatcher need not be exactly-once.
    """

    async def dispatch(self, message_id: str, *, conversation: str) -> AfterResponse | None:
        """Hand over the queued message ``message_id`` of ``conversation``.

        Returns work for the web adapter to run after the response is sent (the background
        dispatcher does), or ``None`` when the message was handed over already.
        """
        ...


class ChannelWebhook(Protocol):
    """A channel's inbound webhook: checks a request is the provider's, and parses it.

    The web layer serves it at ``/api/v1/channels/{name}/webhook`` (GET and POST), then
    accepts every message once and applies every delivery update. A request that is not the
    provider's (bad or missing signature or secret) raises
    :class:`~walker_channels.exceptions.InvalidSignature` (403), a malformed one
    :class:`~walker_channels.exceptions.InvalidInput` (400).
    """

    async def receive(self, request: WebhookRequest, *, received_at: datetime) -> WebhookBatch:
        """Verify ``request`` (fail closed) and return what it carried."""
        ...


Wake = Callable[[], None]
"""Called when a message may be waiting (from any thread: it must only set a flag)."""


class Wakeup(Protocol):
    """Wake-ups for one inbox: an accepting process tells sleeping workers a message waits.

    Only a hint: workers sweep every interval anyway, so a lost wake-up delays a message by at
    most that interval.
    """

    async def notify(self, key: str) -> None:
        """Wake the listeners: a message of conversation ``key`` waits (``key`` is never text)."""
        ...

    def listening(self, wake: Wake) -> AbstractAsyncContextManager[None]:
        """Call ``wake`` on every wake-up while the block runs."""
        ...


@runtime_checkable
class WakeupSource(Protocol):
    """Optional for a set of stores: the wake-up of its inbox (``SqlStores`` has one: ``NOTIFY``
    on PostgreSQL)."""

    def wakeup(self) -> Wakeup:
        """The wake-up every user of these stores shares."""
        ...


class ArrivalRecords(Protocol):
    """How an inbound message becomes its records once its tenant and last session are known
    (the service's rules, handed to an :class:`AcceptStore`)."""

    @property
    def channel(self) -> Channel:
        """The channel the message came on."""
        ...

    @property
    def participant(self) -> str:
        """The sender's pseudonym."""
        ...

    def conversation_id(self, tenant_id: str) -> str:
        """The conversation the message belongs to under ``tenant_id``."""
        ...

    def build(self, tenant_id: str, last: SessionMark | None) -> Arrival:
        """The records to write, given the conversation's latest session (``None``: none)."""
        ...


class AcceptStore(Protocol):
    """Records an inbound message: its conversation (and session), queue entry and inbound
    event, all or nothing.

    Duplicates are found by the inbound event's idempotency key: a message whose event is
    stored already writes nothing. A change of a tenant's numbers is seen by the next accept
    of every process (a cache is checked against the database, never trusted for a while).
    """

    async def accept(self, recipient: Address, records: ArrivalRecords) -> Admission:
        """Resolve the tenant owning ``recipient`` and write ``records`` for it."""
        ...


class TurnRecords(Protocol):
    """How a claimed entry's records are found (the service's keys, handed to a
    :class:`TurnStore`)."""

    def inbound_event(self, item: QueuedInbound) -> InboundEvent:
        """The inbound event that records ``item`` (its participant is the sender's)."""
        ...

    def approval_id(self, item: QueuedInbound) -> str:
        """The id of the approval ``item`` causes when it is escalated."""
        ...

    def reply_key(self, item: QueuedInbound) -> str:
        """The ledger key of the reply to ``item`` (its first part)."""
        ...


class TurnStore(Protocol):
    """Claims queued entries (as :meth:`InboundQueue.claim`) together with what answering each
    needs: its inbound event recorded if missing, its approval and reply record if an earlier
    run left them, its conversation, and the person's consent.

    The claim's reads see the same moment as the claim (one transaction on SQL). A completed
    entry's conversation can be claimed on in the same step, so a worker moving through a
    conversation pays one step between messages.
    """

    async def claim(self, claim: Claim, records: TurnRecords) -> Sequence[Turn]:
        """Lease the entries ``claim`` selects, oldest first, each with its records."""
        ...

    async def complete(
        self, item_id: str, records: TurnRecords, *, then: Claim | None = None
    ) -> Sequence[Turn]:
        """Remove a processed entry (and the entries joined to it); then, with ``then``,
        claim as :meth:`claim` does (nothing without it)."""
        ...


@runtime_checkable
class SettlingTurnStore(TurnStore, Protocol):
    """A :class:`TurnStore` that shares a database with the outbound ledger and the event
    log, so the reply that answers an entry settles in the entry's completion.

    With one, a reply that went out costs one transaction fewer: its settlement, its event,
    the entry's removal and the conversation's next claim commit together (a crash leaves all
    or none of them). Without one, the reply settles through the
    :class:`OutboundLedger` and the entry completes after it.
    """

    async def settle_and_complete(
        self,
        key: str,
        settlement: Settlement,
        event: ConversationEvent | None,
        *,
        item_id: str,
        records: TurnRecords,
        then: Claim | None = None,
    ) -> tuple[bool, Sequence[Turn]]:
        """:meth:`OutboundLedger.settle` of ``key`` then :meth:`complete` of ``item_id``, in
        one transaction: whether the settlement took effect (the entry is removed either
        way), and what ``then`` claimed."""
        ...


class TenantResolver(Protocol):
    """Which tenant owns the address a message was sent to."""

    async def resolve(self, recipient: Address) -> str | None:
        """The tenant id, or ``None`` for an address no tenant owns."""
        ...


@runtime_checkable
class TenantRegistry(TenantResolver, Protocol):
    """A :class:`TenantResolver` whose numbers can be changed while it runs.

    There is no separate list of tenants: a tenant exists while it owns a number. A change is
    seen by the next :meth:`resolve` of every process sharing the store (nothing is cached).
    """

    async def add_number(
        self, tenant_id: str, address: Address | str, user_id: str | None = None
    ) -> None:
        """Give ``address`` to ``tenant_id`` on its channel (or change its user).

        Raises :class:`~walker_channels.exceptions.Conflict` when another tenant owns it.
        """
        ...

    async def remove_number(self, address: Address | str, *, tenant_id: str | None = None) -> bool:
        """Release ``address`` on its channel (only from ``tenant_id`` when given).

        ``False`` if no tenant (or not ``tenant_id``) owned it there.
        """
        ...

    async def numbers(self, tenant_id: str) -> Sequence[TenantNumber]:
        """Every address of ``tenant_id``, in address then channel order."""
        ...

    async def tenants(self) -> Sequence[str]:
        """The ids of the tenants that own at least one address, in order."""
        ...


class ConsentStore(Protocol):
    """The suppression list: who opted out of a tenant's messages, per channel, by pseudonym."""

    async def opt_out(self, record: OptOut) -> bool:
        """Put ``record``'s person on the list; ``False`` (the first record kept) if there.

        Must be atomic: of concurrent opt-outs of one person exactly one returns ``True``.
        """
        ...

    async def opt_in(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """Take the person off the list; ``False`` if they were not on it (atomic too)."""
        ...

    async def is_opted_out(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """Whether the person is on the list."""
        ...

    async def opt_outs(
        self, tenant_id: str, *, channel: Channel | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[OptOut]:
        """The tenant's list (of one channel when given), newest first."""
        ...


class TenantSettingsStore(Protocol):
    """Each tenant's own rules: consent keywords per language and the window fallback."""

    async def get(self, tenant_id: str) -> TenantSettings:
        """The tenant's settings; empty ones (the defaults apply) when none were saved."""
        ...

    async def save(self, settings: TenantSettings) -> None:
        """Replace the tenant's settings with ``settings``, in one step."""
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

    async def retry(self, key: str, *, at: datetime, attempts: int | None = None) -> bool:
        """Reserve again a send the provider refused: ``failed`` -> ``pending``.

        ``True`` only for a record that is ``failed`` (nothing went out), never for ``pending``,
        ``sent`` or ``unknown``; with ``attempts``, only while the record has made exactly that
        many attempts (a sweep's view may be stale). Adds one to ``attempts``. Must be atomic:
        of concurrent retries exactly one wins.
        """
        ...

    async def settle(
        self, key: str, settlement: Settlement, *, event: ConversationEvent | None = None
    ) -> bool:
        """Record how the send ended and append ``event``, in one transaction.

        A compare-and-set: ``False`` (nothing changed, no event) unless the record is in one of
        ``settlement.expected``. The payload is dropped when the send is settled as sent. An
        event whose idempotency key is stored already is not stored again. Raises
        :class:`~walker_channels.exceptions.NotFound` for a key never reserved.
        """
        ...

    async def due(
        self, now: datetime, *, stale_before: datetime | None = None, limit: int = 100
    ) -> Sequence[OutboundRecord]:
        """Records a sweep should act on, soonest first: ``unknown`` and ``failed`` ones whose
        ``next_attempt_at`` is at or before ``now``, and (with ``stale_before``) ``pending``
        ones last updated before it, whose worker died."""
        ...

    async def unsettled(
        self, scope: Scope, *, key_prefix: str | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[OutboundRecord]:
        """``unknown`` and ``failed`` records visible in ``scope``, oldest first.

        ``key_prefix`` keeps the keys that start with it (the sends of one purpose).
        """
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


class Rollups(Protocol):
    """Keeps the closed days' figures precomputed for the admin reads (``SqlRollups``)."""

    async def roll(self, *, now: datetime | None = None, limit: int = 31) -> int:
        """Roll up to ``limit`` closed days not rolled yet (or no longer valid); how many."""
        ...


@runtime_checkable
class RollupSource(Protocol):
    """Optional for a set of stores: the rollups of its admin figures (``SqlStores`` has them)."""

    @property
    def rollups(self) -> Rollups:
        """What the sweep loop calls to keep them."""
        ...


class PrivacyStore(Protocol):
    """Erasure of one person's data, and the purge of old message text (retention)."""

    async def erase(self, request: ErasureRequest) -> ErasureRecord:
        """Delete every row about ``request``'s person in its tenant, and record that it was done.

        One transaction: their events, drafts, sends, queued messages and sessions (rows of
        their pseudonym, in the tenant or in no tenant), the tenant's numbers and brief
        schedules at their address, and a new :class:`ErasureRecord` (pseudonym only).
        """
        ...

    async def erasures(self, tenant_id: str) -> Sequence[ErasureRecord]:
        """The erasures done in ``tenant_id``, oldest first."""
        ...

    async def purge_text(
        self, before: datetime, *, since: datetime | None = None, limit: int = 1000
    ) -> RetentionReport:
        """Remove message text older than ``before`` (from ``since`` on, when given).

        Events keep every column the admin aggregates read and lose their ``text``; decided
        drafts lose their proposed and final text and their recipient; sends that never went
        out lose the message kept for a retry (so none follows). Pending drafts and queued
        messages are live work and kept. At most ``limit`` rows of each kind per call
        (``complete`` says whether more are due). Purging again changes nothing.
        """
        ...


class ConversationStore(Protocol):
    """One record per conversation: who answers it (agent or human) and its session.

    Keyed by the conversation id (:func:`walker_channels.models.ids.conversation_id_for`).
    The raw address kept to reply never leaves the service layer.
    """

    async def upsert(self, conversation: Conversation) -> Conversation:
        """Record an inbound message's conversation and return it as stored.

        A new id is inserted as given. An existing one takes the new ``address``,
        ``reply_from``, ``session_id`` and the later of the two ``last_inbound_at`` and
        ``last_activity_at``; it keeps its mode, ``taken_by`` and ``mode_since``.
        """
        ...

    async def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with this id, if any."""
        ...

    async def find(self, query: ConversationQuery) -> Sequence[Conversation]:
        """Conversations in ``query.scope`` (and mode, channel), most recently active first."""
        ...

    async def switch(
        self,
        conversation_id: str,
        *,
        to: ConversationMode,
        by: str | None,
        at: datetime,
        idle_before: datetime | None = None,
    ) -> Conversation | None:
        """Move the conversation to mode ``to`` from the other mode, and return it.

        A compare-and-set: ``None`` (nothing changed) unless it is in the other mode, so of
        concurrent takeovers exactly one wins. ``by`` becomes ``taken_by`` (``None`` in agent
        mode). With ``idle_before``, only a conversation with no activity and no mode change
        since then switches (the idle timeout).
        """
        ...

    async def idle(self, before: datetime, *, limit: int = 100) -> Sequence[Conversation]:
        """Human-mode conversations with no activity and no mode change since ``before``."""
        ...

    async def touch(self, conversation_id: str, *, at: datetime) -> None:
        """Mark activity at ``at`` (a reply went out): the session stays alive from then on."""
        ...

    async def transcript(
        self, conversation: Conversation, *, limit: int = 200
    ) -> Sequence[ConversationEvent]:
        """The conversation's latest ``limit`` events, oldest first."""
        ...


class ChannelEvents(Protocol):
    """The host's hooks: told of each event after it is stored, with pseudonyms only.

    A hook that raises is logged and ignored: it never breaks the flow. Drafts come without
    their ``recipient`` address. :class:`walker_channels.services.IgnoredEvents` does nothing
    for each; subclass it to hear only some.
    """

    async def draft_created(self, approval: Approval) -> None:
        """A draft went to human review."""
        ...

    async def draft_decided(self, approval: Approval) -> None:
        """A draft was approved, rejected or expired (its ``status`` says which)."""
        ...

    async def draft_overdue(self, approval: Approval) -> None:
        """A draft is past its deadline and stays pending (the ``renotify`` expiry policy)."""
        ...

    async def handoff_started(self, event: HandoffStartedEvent) -> None:
        """A human took a conversation over."""
        ...

    async def handoff_ended(self, event: HandoffEndedEvent) -> None:
        """A conversation went back to the agent."""
        ...

    async def delivery_failed(self, event: OutboundFailedEvent | DeliveryStatusEvent) -> None:
        """A send failed, or the provider reported it failed or undelivered."""
        ...

    async def message_received(self, event: InboundEvent) -> None:
        """A person's message was recorded (``tenant_id`` is ``None`` for an unowned number)."""
        ...
