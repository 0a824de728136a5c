"""The :class:`~walker_channels.ports.MonitoringReader` contract (over an EventStore it reads)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, TypedDict

import pytest

from walker_channels.exceptions import InvalidInput
from walker_channels.metrics import PERCENTILE_ERROR, PERCENTILES
from walker_channels.models import (
    ApprovedEvent,
    Channel,
    ConsentSource,
    ConversationEvent,
    DeliveryStatus,
    DeliveryStatusEvent,
    Direction,
    EscalatedEvent,
    EscalationReason,
    HandoffStartedEvent,
    HumanReplyEvent,
    InboundEvent,
    LogEntry,
    LogQuery,
    OptedInEvent,
    OptedOutEvent,
    OutboundEvent,
    OutboundFailedEvent,
    RiskLevel,
    StatsQuery,
)
from walker_channels.ports import EventStore, MonitoringReader
from walker_channels.testing.contracts.common import ALL, T0, scoped
from walker_channels.testing.contracts.events import inbound
from walker_channels.testing.contracts.sentiment import SentimentAveragesContract

OutcomeKind = Literal["sent", "failed", "escalated"]

MonitoringPair = tuple[EventStore, MonitoringReader]
"""An event store and a monitoring reader that reads what the store holds."""


def _exact_percentile(ordered: list[float], fraction: float) -> float:
    """PostgreSQL's ``percentile_cont`` of sorted values: the reference for the estimate."""
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class _OutcomeFields(TypedDict):
    tenant_id: str
    channel: Channel
    participant: str
    occurred_at: datetime
    agent_id: str
    confidence: float | None
    response_time_ms: float | None


def agent_outcome(
    kind: OutcomeKind,
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
    common = _OutcomeFields(
        tenant_id=tenant,
        channel=channel,
        participant=who,
        occurred_at=at,
        agent_id=agent,
        confidence=confidence,
        response_time_ms=response_ms,
    )
    if kind == "sent":
        return OutboundEvent(**common, text="reply")
    if kind == "failed":
        return OutboundFailedEvent(**common, text="reply", error_code="30003")
    return EscalatedEvent(**common, approval_id="a1", reason=reason, risk_level=RiskLevel.LOW)


@pytest.mark.anyio
class MonitoringReaderContract(SentimentAveragesContract):
    """Provide ``monitoring``: an empty EventStore and a MonitoringReader over the same data."""

    @pytest.fixture
    def monitoring(self) -> MonitoringPair:
        """Override: a ``(event_store, monitoring_reader)`` pair sharing one empty store."""
        raise NotImplementedError

    async def _store(
        self, monitoring: MonitoringPair, *events: ConversationEvent
    ) -> MonitoringReader:
        event_store, reader = monitoring
        for event in events:
            assert await event_store.append(event)
        return reader

    async def _stats_scenario(self, monitoring: MonitoringPair) -> MonitoringReader:
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

    async def test_the_success_rate_follows_how_each_send_ended(
        self, monitoring: MonitoringPair
    ) -> None:
        at = T0
        reader = await self._store(
            monitoring,
            *(agent_outcome("sent", agent="a", at=at, who=f"p{n}") for n in range(3)),
            agent_outcome("failed", agent="a", at=at),
            # An attempt whose outcome is unknown is no outcome until it is settled.
            OutboundFailedEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant="p9",
                occurred_at=at,
                text="reply",
                outcome_unknown=True,
            ),
            # One of the sent messages was reported undelivered later: not a success.
            DeliveryStatusEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant="p0",
                occurred_at=at + timedelta(seconds=5),
                status=DeliveryStatus.UNDELIVERED,
                error_code="30008",
            ),
            DeliveryStatusEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant="p1",
                occurred_at=at + timedelta(seconds=5),
                status=DeliveryStatus.DELIVERED,
            ),
        )
        stats = await reader.stats(StatsQuery(scope=ALL))
        assert (stats.outbound_total, stats.failed_total) == (3, 2)
        assert stats.success_rate == pytest.approx(2 / 4)

    async def test_stats_count_rate_and_rank_within_scope(self, monitoring: MonitoringPair) -> None:
        reader = await self._stats_scenario(monitoring)
        stats = await reader.stats(StatsQuery(scope=scoped("t1")))
        assert (stats.inbound_total, stats.outbound_total) == (3, 2)
        assert (stats.failed_total, stats.escalated_total) == (1, 1)
        assert stats.avg_response_ms == pytest.approx(250)
        # Each time has a histogram bucket of its own: the percentiles are exact.
        assert stats.p50_response_ms == pytest.approx(250)
        assert stats.p95_response_ms == pytest.approx(385)
        assert stats.p99_response_ms == pytest.approx(397)
        assert stats.hitl_rate == pytest.approx(1 / 4)
        assert stats.success_rate == pytest.approx(2 / 3)
        assert stats.unique_users == 3
        assert [(a.agent_id, a.interactions) for a in stats.top_agents] == [("a", 2), ("b", 2)]

    async def test_percentiles_are_within_their_documented_error(
        self, monitoring: MonitoringPair
    ) -> None:
        # Several times per 1 % bucket, a zero and an outlier: the estimate may differ from
        # the exact percentile_cont, by at most PERCENTILE_ERROR of it.
        times = sorted([0.0, 5000.0, *(1000 + 2.5 * k for k in range(60))])
        outcomes = (agent_outcome("sent", agent="a", at=T0, response_ms=t) for t in times)
        reader = await self._store(monitoring, *outcomes)
        stats = await reader.stats(StatsQuery(scope=ALL))
        found = (stats.p50_response_ms, stats.p95_response_ms, stats.p99_response_ms)
        for estimate, fraction in zip(found, PERCENTILES, strict=True):
            exact = _exact_percentile(times, fraction)
            assert estimate == pytest.approx(exact, rel=PERCENTILE_ERROR), fraction

    async def test_handoffs_and_human_replies_are_counted_and_per_agent(
        self, monitoring: MonitoringPair
    ) -> None:
        common = {"channel": Channel.WHATSAPP, "participant": "p1", "conversation_id": "c1"}
        reader = await self._store(
            monitoring,
            agent_outcome("sent", agent="a", at=T0, response_ms=100, confidence=0.9),
            HandoffStartedEvent(
                **common, tenant_id="t1", occurred_at=T0, agent_id="a", by="rev", reason="takeover"
            ),
            HandoffStartedEvent(
                **common, tenant_id="t2", occurred_at=T0, agent_id="z", by="p", reason="keyword"
            ),
            *(
                HumanReplyEvent(
                    **common,
                    tenant_id="t1",
                    occurred_at=T0 + timedelta(minutes=n),
                    agent_id="a",
                    by="rev",
                    send_key=f"human:t1:{n}",
                    state="sent",
                )
                for n in range(2)
            ),
        )
        stats = await reader.stats(StatsQuery(scope=ALL))
        assert (stats.handoffs_total, stats.human_replies_total) == (2, 2)
        assert stats.outbound_total == 1  # a human reply's send is its own outbound event
        agents = await reader.agent_analytics(StatsQuery(scope=ALL))
        assert [(a.agent_id, a.interactions, a.handoffs, a.human_replies) for a in agents] == [
            ("a", 1, 1, 2),
            ("z", 0, 1, 0),
        ]
        mine = await reader.agent_analytics(StatsQuery(scope=scoped("t1")))
        assert [(a.agent_id, a.handoffs) for a in mine] == [("a", 1)]

    async def test_opt_outs_and_opt_ins_are_counted_within_scope(
        self, monitoring: MonitoringPair
    ) -> None:
        common = {"channel": Channel.SMS, "occurred_at": T0}
        keyword, provider = ConsentSource.KEYWORD, ConsentSource.PROVIDER
        reader = await self._store(
            monitoring,
            OptedOutEvent(**common, tenant_id="t1", participant="p1", source=keyword),
            OptedOutEvent(**common, tenant_id="t1", participant="p2", source=provider),
            OptedInEvent(**common, tenant_id="t1", participant="p1", source=keyword),
            OptedOutEvent(**common, tenant_id="t2", participant="p3", source=provider),
        )
        stats = await reader.stats(StatsQuery(scope=ALL))
        assert (stats.opt_outs, stats.opt_ins) == (3, 1)
        assert (stats.inbound_total, stats.outbound_total, stats.success_rate) == (0, 0, None)
        mine = await reader.stats(StatsQuery(scope=scoped("t2")))
        assert (mine.opt_outs, mine.opt_ins) == (1, 0)

    async def test_stats_distributions(self, monitoring: MonitoringPair) -> None:
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
        self, monitoring: MonitoringPair
    ) -> None:
        reader = await self._stats_scenario(monitoring)
        everything = await reader.stats(StatsQuery(scope=ALL))
        assert (everything.inbound_total, everything.outbound_total) == (4, 3)
        other = await reader.stats(StatsQuery(scope=scoped("t2")))
        assert (other.inbound_total, other.outbound_total, other.unique_users) == (1, 1, 1)
        nothing = await reader.stats(StatsQuery(scope=scoped()))
        assert (nothing.inbound_total, nothing.unique_users) == (0, 0)

    async def test_stats_filter_by_time_and_channel(self, monitoring: MonitoringPair) -> None:
        reader = await self._stats_scenario(monitoring)
        late = StatsQuery(scope=ALL, start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=6))
        assert (await reader.stats(late)).inbound_total == 1
        sms = await reader.stats(StatsQuery(scope=ALL, channel=Channel.SMS))
        assert (sms.inbound_total, sms.outbound_total) == (0, 0)

    async def test_messages_to_nobodys_number_are_counted_for_every_tenant_only(
        self, monitoring: MonitoringPair
    ) -> None:
        nobody = inbound(None, at=T0).replace(tenant_id=None)
        reader = await self._store(
            monitoring,
            nobody,
            nobody.replace(id="e-sms", channel=Channel.SMS, participant="p9"),
            nobody.replace(id="e-late", occurred_at=T0 + timedelta(hours=2)),
            inbound(None, at=T0),
        )
        everything = await reader.stats(StatsQuery(scope=ALL))
        assert (everything.inbound_total, everything.unknown_recipient_messages) == (4, 3)
        sms = await reader.stats(StatsQuery(scope=ALL, channel=Channel.SMS))
        assert sms.unknown_recipient_messages == 1
        early = await reader.stats(StatsQuery(scope=ALL, end=T0 + timedelta(hours=1)))
        assert early.unknown_recipient_messages == 2
        tenant = await reader.stats(StatsQuery(scope=scoped("t1")))
        assert (tenant.inbound_total, tenant.unknown_recipient_messages) == (1, None)

    async def test_stats_of_nothing_are_empty_not_errors(self, monitoring: MonitoringPair) -> None:
        _, reader = monitoring
        stats = await reader.stats(StatsQuery(scope=ALL))
        assert (stats.inbound_total, stats.unique_users, stats.top_agents) == (0, 0, ())
        assert stats.avg_response_ms is stats.p50_response_ms is stats.p99_response_ms is None
        assert stats.hitl_rate is stats.success_rate is None
        assert stats.unknown_recipient_messages == 0
        assert stats.hourly_distribution == (0,) * 24
        assert [b.count for b in stats.confidence_buckets] == [0] * 10

    async def test_agent_analytics_busiest_first_with_rates_and_uptime(
        self, monitoring: MonitoringPair
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
        assert (a.success_rate, a.error_rate, a.uptime) == pytest.approx((2 / 3, 1 / 3, 1 / 2))
        assert (b.interactions, b.hitl_rate, b.success_rate) == (2, 1.0, None)
        assert (b.error_rate, b.uptime, b.avg_response_ms) == (0.5, 0.5, None)
        assert b.avg_confidence == pytest.approx(0.2)

    async def test_uptime_counts_windows_of_the_chosen_width(
        self, monitoring: MonitoringPair
    ) -> None:
        reader = await self._store(
            monitoring,
            agent_outcome("sent", agent="a", at=T0),
            agent_outcome("failed", agent="a", at=T0 + timedelta(minutes=30)),
            agent_outcome("sent", agent="a", at=T0 + timedelta(hours=5)),
        )
        hourly = await reader.agent_analytics(StatsQuery(scope=ALL))
        daily = await reader.agent_analytics(StatsQuery(scope=ALL, uptime_window=timedelta(days=1)))
        assert hourly[0].uptime == pytest.approx(1 / 2)
        assert daily[0].uptime == 0.0

    async def _log_scenario(self, monitoring: MonitoringPair) -> MonitoringReader:
        events = [inbound(None, at=T0 + timedelta(minutes=n)) for n in range(5)]
        same_time = [inbound(None, who=f"tie{n}", at=T0 + timedelta(hours=1)) for n in range(3)]
        sms = agent_outcome("sent", agent="a", at=T0 + timedelta(minutes=2), channel=Channel.SMS)
        other = inbound(None, tenant="t2", at=T0 + timedelta(minutes=3))
        return await self._store(monitoring, *events, *same_time, sms, other)

    async def test_log_pages_are_newest_first_and_cover_every_row_once(
        self, monitoring: MonitoringPair
    ) -> None:
        reader = await self._log_scenario(monitoring)
        seen: list[LogEntry] = []
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

    async def test_log_filters_direction_channel_and_dates(
        self, monitoring: MonitoringPair
    ) -> None:
        reader = await self._log_scenario(monitoring)
        outbound = await reader.logs(LogQuery(scope=ALL, direction=Direction.OUTBOUND))
        assert [e.channel for e in outbound.items] == [Channel.SMS]
        sms = await reader.logs(LogQuery(scope=ALL, channel=Channel.SMS))
        assert [e.type.value for e in sms.items] == ["outbound"]
        window = LogQuery(scope=ALL, start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=3))
        assert len((await reader.logs(window)).items) == 3
        assert (await reader.logs(LogQuery(scope=scoped()))).items == ()

    async def test_log_entries_show_pseudonyms_and_redacted_previews(
        self, monitoring: MonitoringPair
    ) -> None:
        text = "Call me on +1 415 555 2671 or at jane.doe@example.com about my order " * 3
        event: InboundEvent = inbound(None, who="ps3udonym").replace(text=text)
        reader = await self._store(monitoring, event)
        (entry,) = (await reader.logs(LogQuery(scope=ALL))).items
        assert entry.participant == "ps3udonym"
        assert len(entry.preview) <= 50
        assert "2671" not in entry.preview
        assert "example.com" not in entry.preview
        assert entry.preview.startswith("Call me on [phone]")

    async def test_log_entries_of_failed_sends_show_the_code_and_the_unknown_flag(
        self, monitoring: MonitoringPair
    ) -> None:
        unknown = OutboundFailedEvent(
            tenant_id="t1",
            channel=Channel.WHATSAPP,
            participant="p1",
            occurred_at=T0 + timedelta(seconds=1),
            text="reply",
            outcome_unknown=True,
        )
        refused = agent_outcome("failed", agent="a", at=T0)
        reader = await self._store(monitoring, refused, unknown, inbound(None, at=T0))
        entries = (await reader.logs(LogQuery(scope=ALL))).items
        flags = [(e.type.value, e.error_code or "", e.outcome_unknown) for e in entries]
        assert sorted(flags) == [
            ("inbound", "", False),
            ("outbound_failed", "", True),
            ("outbound_failed", "30003", False),
        ]

    async def test_the_log_of_one_person_keeps_longer_redacted_previews_on_request(
        self, monitoring: MonitoringPair
    ) -> None:
        text = "My number is +1 415 555 2671 and I would like a refund for order 12. " * 2
        mine: InboundEvent = inbound(None, who="mine").replace(text=text)
        reader = await self._store(monitoring, mine, inbound(None, who="other"))
        query = LogQuery(scope=ALL, participant="mine", preview_length=500)
        (entry,) = (await reader.logs(query)).items
        assert entry.participant == "mine"
        assert entry.preview.endswith("refund for order 12.")
        assert "2671" not in entry.preview

    async def test_a_foreign_cursor_is_refused(self, monitoring: MonitoringPair) -> None:
        _, reader = monitoring
        with pytest.raises(InvalidInput):
            await reader.logs(LogQuery(scope=ALL, cursor="not-a-cursor"))
