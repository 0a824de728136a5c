"""Contract test suites: behaviour every implementation of a port must have.

Subclass a suite in your own tests and provide its fixture; every test is inherited::

    from walker_channels.testing.contracts import EventStoreContract

    class TestMyEventStore(EventStoreContract):
        @pytest.fixture
        async def event_store(self):
            return MyEventStore(...)

The suites are async tests run by the anyio pytest plugin (installed with httpx) on asyncio.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from walker_channels.exceptions import AlreadyDecided, ApprovalNotFound, InvalidInput
from walker_channels.models import (
    Address,
    AgentReply,
    AgentRequest,
    Approval,
    ApprovalStatus,
    ApprovedEvent,
    BriefRunState,
    BriefSchedule,
    Channel,
    Decision,
    DeliveryStatus,
    Direction,
    EscalatedEvent,
    EscalationReason,
    InboundEvent,
    InboundMessage,
    LogQuery,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundMessage,
    OutboundRecord,
    OutboundState,
    QueuedInbound,
    RiskLevel,
    Scope,
    SendResult,
    StatsQuery,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALL = Scope(tenant_ids=None)


def inbound(
    key: str | None, *, tenant: str = "t1", who: str = "p1", at: datetime = T0
) -> InboundEvent:
    """An inbound event for the suites."""
    return InboundEvent(
        tenant_id=tenant,
        channel=Channel.WHATSAPP,
        participant=who,
        occurred_at=at,
        idempotency_key=key,
        text="hello",
    )


def approval(tenant: str = "t1", *, at: datetime = T0, expires: datetime | None = None) -> Approval:
    """A pending approval for the suites."""
    return Approval(
        tenant_id=tenant,
        channel=Channel.WHATSAPP,
        participant="p1",
        recipient=Address(channel=Channel.WHATSAPP, value="+14155552671"),
        agent_type="support",
        proposed_text="draft",
        confidence=0.3,
        risk_level=RiskLevel.MEDIUM,
        reason=EscalationReason.LOW_CONFIDENCE,
        created_at=at,
        expires_at=expires,
    )


@pytest.mark.anyio
class EventStoreContract:
    """Provide an empty store as the ``event_store`` fixture."""

    @pytest.fixture
    def event_store(self) -> Any:
        """Override: an empty EventStore."""
        raise NotImplementedError

    async def test_append_reports_a_new_event(self, event_store: Any) -> None:
        assert await event_store.append(inbound("k1")) is True

    async def test_a_repeated_idempotency_key_is_refused(self, event_store: Any) -> None:
        assert await event_store.append(inbound("k1")) is True
        assert await event_store.append(inbound("k1", at=T0 + timedelta(seconds=1))) is False
        assert await event_store.last_inbound_at("t1", Channel.WHATSAPP, "p1") == T0

    async def test_events_without_a_key_are_always_new(self, event_store: Any) -> None:
        assert await event_store.append(inbound(None)) is True
        assert await event_store.append(inbound(None)) is True

    async def test_concurrent_appends_of_one_key_have_one_winner(self, event_store: Any) -> None:
        results = await asyncio.gather(*(event_store.append(inbound("same")) for _ in range(20)))
        assert results.count(True) == 1

    async def test_last_inbound_is_the_latest_for_that_person(self, event_store: Any) -> None:
        later = T0 + timedelta(hours=2)
        await event_store.append(inbound("a", at=T0))
        await event_store.append(inbound("b", at=later))
        await event_store.append(inbound("c", who="p2", at=later + timedelta(hours=1)))
        await event_store.append(inbound("d", tenant="t2", at=later + timedelta(hours=1)))
        await event_store.append(
            OutboundEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant="p1",
                occurred_at=later + timedelta(hours=3),
                text="reply",
            )
        )
        assert await event_store.last_inbound_at("t1", Channel.WHATSAPP, "p1") == later
        assert await event_store.last_inbound_at("t1", Channel.SMS, "p1") is None
        assert await event_store.last_inbound_at("t3", Channel.WHATSAPP, "p1") is None

    async def test_last_session_is_the_latest_event_with_a_session(self, event_store: Any) -> None:
        assert await event_store.last_session("t1", Channel.WHATSAPP, "p1") is None
        first, second = T0, T0 + timedelta(minutes=5)
        await event_store.append(inbound("a", at=first).replace(session_id="s1"))
        await event_store.append(inbound("b", at=second).replace(session_id="s2"))
        await event_store.append(inbound("c", at=second + timedelta(minutes=1)))
        await event_store.append(inbound("d", who="p2", at=second).replace(session_id="other"))
        mark = await event_store.last_session("t1", Channel.WHATSAPP, "p1")
        assert mark is not None
        assert (mark.session_id, mark.last_at) == ("s2", second)


@pytest.mark.anyio
class ApprovalStoreContract:
    """Provide an empty store as the ``approval_store`` fixture."""

    @pytest.fixture
    def approval_store(self) -> Any:
        """Override: an empty ApprovalStore."""
        raise NotImplementedError

    async def test_an_approval_round_trips(self, approval_store: Any) -> None:
        item = approval()
        await approval_store.create(item)
        assert await approval_store.get(item.id) == item
        assert await approval_store.get("missing") is None

    async def test_pending_are_listed_oldest_first_within_scope(self, approval_store: Any) -> None:
        newer, older = approval(at=T0 + timedelta(minutes=5)), approval(at=T0)
        other = approval("t2", at=T0 - timedelta(minutes=5))
        for item in (newer, older, other):
            await approval_store.create(item)
        listed = await approval_store.list_pending(Scope(tenant_ids=frozenset({"t1"})))
        assert [a.id for a in listed] == [older.id, newer.id]
        assert [a.id for a in await approval_store.list_pending(ALL, limit=1, offset=1)] == [
            older.id
        ]

    async def test_a_decision_moves_a_pending_approval(self, approval_store: Any) -> None:
        item = approval()
        await approval_store.create(item)
        decision = Decision(
            status=ApprovalStatus.APPROVED, decided_by="rev", decided_at=T0, final_text="edited"
        )
        decided = await approval_store.decide(item.id, decision)
        assert (decided.status, decided.decided_by, decided.final_text) == (
            ApprovalStatus.APPROVED,
            "rev",
            "edited",
        )
        assert await approval_store.get(item.id) == decided
        assert await approval_store.list_pending(ALL) == []

    async def test_a_second_decision_is_refused(self, approval_store: Any) -> None:
        item = approval()
        await approval_store.create(item)
        reject = Decision(status=ApprovalStatus.REJECTED, decided_by="a", decided_at=T0)
        await approval_store.decide(item.id, reject)
        with pytest.raises(AlreadyDecided):
            await approval_store.decide(item.id, reject.replace(decided_by="b"))

    async def test_deciding_an_unknown_approval_is_not_found(self, approval_store: Any) -> None:
        decision = Decision(status=ApprovalStatus.REJECTED, decided_by="a", decided_at=T0)
        with pytest.raises(ApprovalNotFound):
            await approval_store.decide("missing", decision)

    async def test_concurrent_decisions_have_one_winner(self, approval_store: Any) -> None:
        item = approval()
        await approval_store.create(item)

        async def decide(n: int) -> bool:
            decision = Decision(status=ApprovalStatus.APPROVED, decided_by=f"r{n}", decided_at=T0)
            try:
                await approval_store.decide(item.id, decision)
            except AlreadyDecided:
                return False
            return True

        assert (await asyncio.gather(*(decide(n) for n in range(10)))).count(True) == 1

    async def test_expired_lists_pending_past_their_deadline(self, approval_store: Any) -> None:
        due = approval(expires=T0 + timedelta(hours=1))
        later = approval(expires=T0 + timedelta(hours=3))
        for item in (due, later, approval()):
            await approval_store.create(item)
        expired = await approval_store.list_expired(T0 + timedelta(hours=2))
        assert [a.id for a in expired] == [due.id]


@pytest.mark.anyio
class TenantResolverContract:
    """Provide a resolver in which ``KNOWN`` belongs to tenant ``TENANT`` and nothing else."""

    KNOWN = Address(channel=Channel.WHATSAPP, value="+14155552671")
    TENANT = "tenant-a"

    @pytest.fixture
    def tenant_resolver(self) -> Any:
        """Override: a TenantResolver that maps KNOWN to TENANT."""
        raise NotImplementedError

    async def test_a_known_number_resolves_to_its_tenant(self, tenant_resolver: Any) -> None:
        assert await tenant_resolver.resolve(self.KNOWN) == self.TENANT

    async def test_an_unknown_number_resolves_to_none(self, tenant_resolver: Any) -> None:
        unknown = Address(channel=Channel.WHATSAPP, value="+14155550199")
        assert await tenant_resolver.resolve(unknown) is None


def outbound_record(key: str, *, at: datetime = T0) -> OutboundRecord:
    """A pending ledger record for the suites."""
    return OutboundRecord(
        key=key,
        tenant_id="t1",
        channel=Channel.WHATSAPP,
        participant="p1",
        created_at=at,
        updated_at=at,
    )


@pytest.mark.anyio
class OutboundLedgerContract:
    """Provide an empty ledger as the ``outbound_ledger`` fixture."""

    @pytest.fixture
    def outbound_ledger(self) -> Any:
        """Override: an empty OutboundLedger."""
        raise NotImplementedError

    async def test_a_key_is_reserved_once(self, outbound_ledger: Any) -> None:
        assert await outbound_ledger.reserve(outbound_record("k")) is True
        assert await outbound_ledger.reserve(outbound_record("k")) is False
        assert (await outbound_ledger.get("k")).state is OutboundState.PENDING

    async def test_concurrent_reservations_have_one_winner(self, outbound_ledger: Any) -> None:
        results = await asyncio.gather(
            *(outbound_ledger.reserve(outbound_record("k")) for _ in range(20))
        )
        assert results.count(True) == 1

    async def test_settling_records_the_outcome(self, outbound_ledger: Any) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle(
            "k", state=OutboundState.SENT, at=T0, provider_message_id="SM1"
        )
        record = await outbound_ledger.get("k")
        assert (record.state, record.provider_message_id) == (OutboundState.SENT, "SM1")

    async def test_delivery_status_never_goes_backwards(self, outbound_ledger: Any) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle(
            "k", state=OutboundState.SENT, at=T0, provider_message_id="SM1"
        )
        delivered = await outbound_ledger.advance_delivery(
            provider_message_id="SM1", status=DeliveryStatus.DELIVERED, at=T0
        )
        assert delivered is not None
        assert delivered.delivery_status is DeliveryStatus.DELIVERED
        stale = await outbound_ledger.advance_delivery(
            provider_message_id="SM1", status=DeliveryStatus.SENT, at=T0
        )
        assert stale is None
        assert (await outbound_ledger.get("k")).delivery_status is DeliveryStatus.DELIVERED

    async def test_a_callback_settles_an_unknown_outcome_by_key(self, outbound_ledger: Any) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle("k", state=OutboundState.UNKNOWN, at=T0)
        record = await outbound_ledger.advance_delivery(
            provider_message_id="SM9", status=DeliveryStatus.SENT, at=T0, key="k"
        )
        assert record is not None
        assert (record.state, record.provider_message_id) == (OutboundState.SENT, "SM9")

    async def test_an_unknown_message_changes_nothing(self, outbound_ledger: Any) -> None:
        result = await outbound_ledger.advance_delivery(
            provider_message_id="SMx", status=DeliveryStatus.SENT, at=T0
        )
        assert result is None


DAY = date(2026, 1, 5)
"""The local date whose run the schedule suite claims."""
LEASE = timedelta(minutes=15)
LONG_AFTER = T0 + timedelta(days=1)
"""Long after any lease has run out (the local date's run is still the one claimed)."""


def brief_schedule(*, at: datetime = T0, active: bool = True) -> BriefSchedule:
    """A schedule for the suites."""
    return BriefSchedule(
        tenant_id="t1",
        user_id="u1",
        recipient_email="ops@example.com",
        local_time=datetime(2026, 1, 1, 8).time(),
        timezone="Europe/Berlin",
        created_at=at,
        active=active,
    )


@pytest.mark.anyio
class BriefScheduleStoreContract:
    """Provide an empty store as the ``brief_schedule_store`` fixture."""

    @pytest.fixture
    def brief_schedule_store(self) -> Any:
        """Override: an empty BriefScheduleStore."""
        raise NotImplementedError

    async def test_saved_active_schedules_are_listed(self, brief_schedule_store: Any) -> None:
        active, inactive = brief_schedule(), brief_schedule(active=False)
        await brief_schedule_store.save(active)
        await brief_schedule_store.save(inactive)
        await brief_schedule_store.save(active.replace(local_time=datetime(2026, 1, 1, 9).time()))
        listed = await brief_schedule_store.list_active()
        assert [(s.id, s.local_time.hour) for s in listed] == [(active.id, 9)]

    async def test_a_day_is_claimed_once(self, brief_schedule_store: Any) -> None:
        schedule = await self._saved(brief_schedule_store)
        day = date(2026, 1, 5)
        assert await self._claim(brief_schedule_store, schedule.id, day) is True
        assert await self._claim(brief_schedule_store, schedule.id, day) is False
        assert await self._claim(brief_schedule_store, schedule.id, date(2026, 1, 6)) is True

    async def test_concurrent_claims_have_one_winner(self, brief_schedule_store: Any) -> None:
        schedule = await self._saved(brief_schedule_store)
        claims = (self._claim(brief_schedule_store, schedule.id, DAY) for _ in range(10))
        assert (await asyncio.gather(*claims)).count(True) == 1

    async def test_a_failed_run_may_be_claimed_again_a_sent_one_not(
        self, brief_schedule_store: Any
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        await self._finish(brief_schedule_store, schedule.id, BriefRunState.FAILED, "smtp 451")
        assert await self._claim(brief_schedule_store, schedule.id, DAY) is True
        await self._finish(brief_schedule_store, schedule.id, BriefRunState.SENT)
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=LONG_AFTER) is False

    async def test_an_abandoned_run_is_never_claimed_again(self, brief_schedule_store: Any) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        finished = await self._finish(
            brief_schedule_store, schedule.id, BriefRunState.ABANDONED, "smtp 550"
        )
        assert finished is True
        assert await self._claim(brief_schedule_store, schedule.id, DAY) is False
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=LONG_AFTER) is False

    async def test_a_running_run_is_taken_over_once_its_lease_has_run_out(
        self, brief_schedule_store: Any
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        expiry = T0 + LEASE
        await self._claim(brief_schedule_store, schedule.id, DAY)
        tick = timedelta(seconds=1)
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=expiry - tick) is False
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=expiry) is True
        # The take-over holds a lease of its own, counted from its claim.
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=expiry + tick) is False

    async def test_concurrent_claims_after_the_lease_have_one_winner(
        self, brief_schedule_store: Any
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        later = T0 + 2 * LEASE
        claims = (self._claim(brief_schedule_store, schedule.id, DAY, at=later) for _ in range(10))
        assert (await asyncio.gather(*claims)).count(True) == 1

    async def test_a_worker_whose_run_was_taken_over_records_nothing(
        self, brief_schedule_store: Any
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        await self._claim(brief_schedule_store, schedule.id, DAY, at=T0 + LEASE)
        late = await self._finish(brief_schedule_store, schedule.id, BriefRunState.FAILED, "x")
        current = await self._finish(
            brief_schedule_store, schedule.id, BriefRunState.SENT, claimed_at=T0 + LEASE
        )
        assert (late, current) == (False, True)
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=LONG_AFTER) is False

    @staticmethod
    async def _saved(store: Any) -> BriefSchedule:
        schedule = brief_schedule()
        await store.save(schedule)
        return schedule

    @staticmethod
    async def _claim(store: Any, schedule_id: str, day: date, *, at: datetime = T0) -> bool:
        result: bool = await store.claim_run(schedule_id, day, at=at, lease=LEASE)
        return result

    @staticmethod
    async def _finish(
        store: Any,
        schedule_id: str,
        state: BriefRunState,
        error: str = "",
        *,
        claimed_at: datetime = T0,
    ) -> bool:
        result: bool = await store.finish_run(
            schedule_id, DAY, claimed_at=claimed_at, state=state, at=claimed_at, error=error
        )
        return result


@pytest.mark.anyio
class MessageTransportContract:
    """Provide ``transport`` and a ``message`` it can send (for its channel)."""

    @pytest.fixture
    def transport(self) -> Any:
        """Override: the MessageTransport under test."""
        raise NotImplementedError

    @pytest.fixture
    def message(self) -> OutboundMessage:
        """Override: a valid message for the transport's channel."""
        raise NotImplementedError

    async def test_the_transport_sends_on_the_message_channel(
        self, transport: Any, message: OutboundMessage
    ) -> None:
        assert transport.channel is message.channel

    async def test_a_send_reports_a_provider_id(
        self, transport: Any, message: OutboundMessage
    ) -> None:
        result = await transport.send(message)
        assert isinstance(result, SendResult)
        assert result.channel is message.channel
        assert result.provider_message_id
        assert result.status is not DeliveryStatus.FAILED

    async def test_concurrent_sends_are_distinct(
        self, transport: Any, message: OutboundMessage
    ) -> None:
        results = await asyncio.gather(*(transport.send(message) for _ in range(10)))
        assert len({r.provider_message_id for r in results}) == 10


@pytest.mark.anyio
class AgentRunnerContract:
    """Provide ``agent_runner`` and an ``agent_request`` it can answer."""

    @pytest.fixture
    def agent_runner(self) -> Any:
        """Override: the AgentRunner under test."""
        raise NotImplementedError

    @pytest.fixture
    def agent_request(self) -> AgentRequest:
        """A request the runner can answer (override to change it)."""
        return AgentRequest(
            tenant_id="t1",
            session_id="t1:whatsapp:p1",
            channel=Channel.WHATSAPP,
            participant=Address(channel=Channel.WHATSAPP, value="+14155552671"),
            text="hi",
        )

    async def test_a_run_answers_with_a_valid_reply(
        self, agent_runner: Any, agent_request: AgentRequest
    ) -> None:
        reply = await agent_runner.run(agent_request)
        assert isinstance(reply, AgentReply)
        assert reply.agent_id
        assert reply.confidence is None or 0.0 <= reply.confidence <= 1.0


def queued(item_id: str, *, at: datetime = T0) -> QueuedInbound:
    """A queue entry for the suites."""
    sender = Address(channel=Channel.WHATSAPP, value="+14155552671")
    recipient = Address(channel=Channel.WHATSAPP, value="+14155550100")
    message = InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=item_id,
        sender=sender,
        recipient=recipient,
        text="hello",
        received_at=at,
        raw={"MessageSid": item_id, "Body": "hello"},
    )
    return QueuedInbound(
        id=item_id, message=message, tenant_id="t1", session_id="s1", enqueued_at=at
    )


@pytest.mark.anyio
class InboundQueueContract:
    """Provide an empty queue as the ``inbound_queue`` fixture."""

    LEASE = timedelta(seconds=60)

    @pytest.fixture
    def inbound_queue(self) -> Any:
        """Override: an empty InboundQueue."""
        raise NotImplementedError

    async def test_an_entry_round_trips_with_the_raw_address(self, inbound_queue: Any) -> None:
        item = queued("SM1")
        assert await inbound_queue.enqueue(item) is True
        assert await inbound_queue.enqueue(item) is False
        (claimed,) = await inbound_queue.claim(now=T0, lease=self.LEASE)
        assert claimed.message == item.message
        assert claimed.message.sender.value == "+14155552671"
        assert claimed.attempts == 1

    async def test_claims_are_oldest_first_and_leased(self, inbound_queue: Any) -> None:
        await inbound_queue.enqueue(queued("SM2", at=T0 + timedelta(seconds=1)))
        await inbound_queue.enqueue(queued("SM1", at=T0))
        first = await inbound_queue.claim(now=T0, lease=self.LEASE, limit=5)
        assert [item.id for item in first] == ["SM1", "SM2"]
        assert await inbound_queue.claim(now=T0 + timedelta(seconds=30), lease=self.LEASE) == []
        again = await inbound_queue.claim(now=T0 + self.LEASE, lease=self.LEASE, limit=5)
        assert [(item.id, item.attempts) for item in again] == [("SM1", 2), ("SM2", 2)]

    async def test_a_claim_can_name_its_entry(self, inbound_queue: Any) -> None:
        await inbound_queue.enqueue(queued("SM1"))
        await inbound_queue.enqueue(queued("SM2"))
        claimed = await inbound_queue.claim(now=T0, lease=self.LEASE, item_id="SM2")
        assert [item.id for item in claimed] == ["SM2"]

    async def test_completed_entries_are_gone(self, inbound_queue: Any) -> None:
        await inbound_queue.enqueue(queued("SM1"))
        await inbound_queue.claim(now=T0, lease=self.LEASE)
        await inbound_queue.complete("SM1")
        assert await inbound_queue.claim(now=T0 + self.LEASE, lease=self.LEASE) == []

    async def test_concurrent_claimers_never_share_an_entry(self, inbound_queue: Any) -> None:
        for n in range(5):
            await inbound_queue.enqueue(queued(f"SM{n}", at=T0 + timedelta(seconds=n)))
        batches = await asyncio.gather(
            *(inbound_queue.claim(now=T0, lease=self.LEASE, limit=2) for _ in range(6))
        )
        ids = [item.id for batch in batches for item in batch]
        assert sorted(ids) == [f"SM{n}" for n in range(5)]


def agent_outcome(
    kind: str,
    *,
    agent: str,
    at: datetime,
    response_ms: float | None = None,
    confidence: float | None = None,
    tenant: str = "t1",
    who: str = "p1",
    channel: Channel = Channel.WHATSAPP,
    reason: EscalationReason = EscalationReason.LOW_CONFIDENCE,
) -> OutboundEvent | OutboundFailedEvent | EscalatedEvent:
    """An agent outcome for the monitoring suite: ``sent``, ``failed`` or ``escalated``."""
    common: dict[str, Any] = {
        "tenant_id": tenant,
        "channel": channel,
        "participant": who,
        "occurred_at": at,
        "agent_id": agent,
        "confidence": confidence,
        "response_time_ms": response_ms,
    }
    if kind == "sent":
        return OutboundEvent(**common, text="reply")
    if kind == "failed":
        return OutboundFailedEvent(**common, text="reply", error_code="30003")
    return EscalatedEvent(**common, approval_id="a1", reason=reason, risk_level=RiskLevel.LOW)


def scoped(*tenants: str) -> Scope:
    """A scope that sees only ``tenants``."""
    return Scope(tenant_ids=frozenset(tenants))


@pytest.mark.anyio
class MonitoringReaderContract:
    """Provide ``monitoring``: an empty EventStore and a MonitoringReader over the same data."""

    @pytest.fixture
    def monitoring(self) -> Any:
        """Override: a ``(event_store, monitoring_reader)`` pair sharing one empty store."""
        raise NotImplementedError

    async def _store(self, monitoring: Any, *events: Any) -> Any:
        event_store, reader = monitoring
        for event in events:
            assert await event_store.append(event)
        return reader

    async def _stats_scenario(self, monitoring: Any) -> Any:
        at = T0  # 09:00 UTC
        return await self._store(
            monitoring,
            inbound(None, at=at),
            inbound(None, who="p2", at=at + timedelta(minutes=10)),
            inbound(None, at=at + timedelta(hours=5)),
            agent_outcome("sent", agent="a", at=at, response_ms=100, confidence=0.95),
            agent_outcome("sent", agent="a", at=at, response_ms=200, confidence=0.85),
            agent_outcome("failed", agent="b", at=at, response_ms=300, confidence=0.75),
            agent_outcome("escalated", agent="b", at=at, response_ms=400, confidence=0.3, who="p3"),
            ApprovedEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant="p1",
                occurred_at=at,
                approval_id="a1",
                decided_by="reviewer",
            ),
            inbound(None, tenant="t2", who="q1", at=at),
            agent_outcome("sent", agent="c", tenant="t2", who="q1", at=at, response_ms=9000),
        )

    async def test_stats_count_rate_and_rank_within_scope(self, monitoring: Any) -> None:
        reader = await self._stats_scenario(monitoring)
        stats = await reader.stats(StatsQuery(scope=scoped("t1")))
        assert (stats.inbound_total, stats.outbound_total) == (3, 2)
        assert (stats.failed_total, stats.escalated_total) == (1, 1)
        assert stats.avg_response_ms == pytest.approx(250)
        assert stats.p50_response_ms == pytest.approx(250)
        assert stats.p95_response_ms == pytest.approx(385)
        assert stats.p99_response_ms == pytest.approx(397)
        assert stats.hitl_rate == pytest.approx(1 / 4)
        assert stats.success_rate == pytest.approx(2 / 3)
        assert stats.unique_users == 3
        assert [(a.agent_id, a.interactions) for a in stats.top_agents] == [("a", 2), ("b", 2)]

    async def test_stats_distributions(self, monitoring: Any) -> None:
        reader = await self._stats_scenario(monitoring)
        stats = await reader.stats(StatsQuery(scope=scoped("t1")))
        counts = {b.lower: b.count for b in stats.confidence_buckets if b.count}
        assert counts == {0.9: 1, 0.8: 1, 0.7: 1, 0.3: 1}
        assert len(stats.confidence_buckets) == 10
        assert stats.confidence_buckets[-1].upper == 1.0
        hours = {h: n for h, n in enumerate(stats.hourly_distribution) if n}
        assert hours == {9: 2, 14: 1}
        assert len(stats.hourly_distribution) == 24

    async def test_stats_see_every_tenant_only_with_an_unrestricted_scope(
        self, monitoring: Any
    ) -> None:
        reader = await self._stats_scenario(monitoring)
        everything = await reader.stats(StatsQuery(scope=ALL))
        assert (everything.inbound_total, everything.outbound_total) == (4, 3)
        other = await reader.stats(StatsQuery(scope=scoped("t2")))
        assert (other.inbound_total, other.outbound_total, other.unique_users) == (1, 1, 1)
        nothing = await reader.stats(StatsQuery(scope=scoped()))
        assert (nothing.inbound_total, nothing.unique_users) == (0, 0)

    async def test_stats_filter_by_time_and_channel(self, monitoring: Any) -> None:
        reader = await self._stats_scenario(monitoring)
        late = StatsQuery(scope=ALL, start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=6))
        assert (await reader.stats(late)).inbound_total == 1
        sms = await reader.stats(StatsQuery(scope=ALL, channel=Channel.SMS))
        assert (sms.inbound_total, sms.outbound_total) == (0, 0)

    async def test_stats_of_nothing_are_empty_not_errors(self, monitoring: Any) -> None:
        _, reader = monitoring
        stats = await reader.stats(StatsQuery(scope=ALL))
        assert (stats.inbound_total, stats.unique_users, stats.top_agents) == (0, 0, ())
        assert stats.avg_response_ms is stats.p50_response_ms is stats.p99_response_ms is None
        assert stats.hitl_rate is stats.success_rate is None
        assert stats.hourly_distribution == (0,) * 24
        assert [b.count for b in stats.confidence_buckets] == [0] * 10

    async def test_agent_analytics_busiest_first_with_rates_and_uptime(
        self, monitoring: Any
    ) -> None:
        reader = await self._store(
            monitoring,
            agent_outcome("sent", agent="a", at=T0, response_ms=100, confidence=0.9),
            agent_outcome("sent", agent="a", at=T0 + timedelta(minutes=20), response_ms=200),
            agent_outcome("failed", agent="a", at=T0 + timedelta(hours=2), response_ms=300),
            agent_outcome(
                "escalated",
                agent="b",
                at=T0 + timedelta(hours=1),
                reason=EscalationReason.AGENT_TIMEOUT,
            ),
            agent_outcome("escalated", agent="b", at=T0 + timedelta(hours=3), confidence=0.2),
            agent_outcome("sent", agent="c", tenant="t2", at=T0),
            inbound(None, at=T0),
        )
        rows = await reader.agent_analytics(StatsQuery(scope=scoped("t1")))
        a, b = rows
        assert [r.agent_id for r in rows] == ["a", "b"]
        assert (a.interactions, a.hitl_rate) == (3, 0.0)
        assert a.avg_response_ms == pytest.approx(200)
        assert a.avg_confidence == pytest.approx(0.9)
        assert (a.success_rate, a.error_rate, a.uptime) == (
            pytest.approx(2 / 3),
            pytest.approx(1 / 3),
            pytest.approx(1 / 2),
        )
        assert (b.interactions, b.hitl_rate, b.success_rate) == (2, 1.0, None)
        assert (b.error_rate, b.uptime, b.avg_response_ms) == (0.5, 0.5, None)
        assert b.avg_confidence == pytest.approx(0.2)

    async def test_uptime_counts_windows_of_the_chosen_width(self, monitoring: Any) -> None:
        reader = await self._store(
            monitoring,
            agent_outcome("sent", agent="a", at=T0),
            agent_outcome("failed", agent="a", at=T0 + timedelta(minutes=30)),
            agent_outcome("sent", agent="a", at=T0 + timedelta(hours=5)),
        )
        hourly = await reader.agent_analytics(StatsQuery(scope=ALL))
        daily = await reader.agent_analytics(StatsQuery(scope=ALL, uptime_window=timedelta(days=1)))
        assert (hourly[0].uptime, daily[0].uptime) == (pytest.approx(1 / 2), 0.0)

    async def _log_scenario(self, monitoring: Any) -> Any:
        events = [inbound(None, at=T0 + timedelta(minutes=n)) for n in range(5)]
        same_time = [inbound(None, who=f"tie{n}", at=T0 + timedelta(hours=1)) for n in range(3)]
        sms = agent_outcome("sent", agent="a", at=T0 + timedelta(minutes=2), channel=Channel.SMS)
        other = inbound(None, tenant="t2", at=T0 + timedelta(minutes=3))
        return await self._store(monitoring, *events, *same_time, sms, other)

    async def test_log_pages_are_newest_first_and_cover_every_row_once(
        self, monitoring: Any
    ) -> None:
        reader = await self._log_scenario(monitoring)
        seen: list[Any] = []
        cursor = None
        for _ in range(10):
            page = await reader.logs(LogQuery(scope=scoped("t1"), limit=3, cursor=cursor))
            seen.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        keys = [(e.occurred_at, e.id) for e in seen]
        assert keys == sorted(keys, reverse=True)
        assert len(set(keys)) == len(keys) == 9
        assert {e.tenant_id for e in seen} == {"t1"}

    async def test_log_filters_direction_channel_and_dates(self, monitoring: Any) -> None:
        reader = await self._log_scenario(monitoring)
        outbound = await reader.logs(LogQuery(scope=ALL, direction=Direction.OUTBOUND))
        assert [e.channel for e in outbound.items] == [Channel.SMS]
        sms = await reader.logs(LogQuery(scope=ALL, channel=Channel.SMS))
        assert [e.type.value for e in sms.items] == ["outbound"]
        window = LogQuery(scope=ALL, start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=3))
        assert len((await reader.logs(window)).items) == 3
        assert (await reader.logs(LogQuery(scope=scoped()))).items == ()

    async def test_log_entries_show_pseudonyms_and_redacted_previews(self, monitoring: Any) -> None:
        text = "Call me on +1 415 555 2671 or at jane.doe@example.com about my order " * 3
        event = inbound(None, who="ps3udonym").replace(text=text)
        reader = await self._store(monitoring, event)
        (entry,) = (await reader.logs(LogQuery(scope=ALL))).items
        assert entry.participant == "ps3udonym"
        assert len(entry.preview) <= 50
        assert "2671" not in entry.preview
        assert "example.com" not in entry.preview
        assert entry.preview.startswith("Call me on [phone]")

    async def test_a_foreign_cursor_is_refused(self, monitoring: Any) -> None:
        _, reader = monitoring
        with pytest.raises(InvalidInput):
            await reader.logs(LogQuery(scope=ALL, cursor="not-a-cursor"))
