"""The admin read side computed in Python over an in-memory event list.

It is the reference the SQL reader is checked against (same definitions, from
:mod:`walker_channels.metrics`), the reader behind in-memory setups, and the
"load every row into Python" baseline of the admin-query benchmark.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC

from walker_channels.metrics import (
    PERCENTILES,
    TOP_AGENTS,
    confidence_bounds,
    confidence_bucket,
    decode_cursor,
    encode_cursor,
    event_is_error,
    event_success,
    is_agent_outcome,
    is_unknown_recipient,
    ratio,
    response_histogram,
    response_percentiles,
    send_success_rate,
    window_index,
    window_seconds,
)
from walker_channels.models import (
    AgentAnalytics,
    AgentCount,
    ConfidenceBucket,
    ConversationEvent,
    ConversationStats,
    EventType,
    InboundEvent,
    LogEntry,
    LogQuery,
    Page,
    StatsQuery,
)
from walker_channels.privacy import preview
from walker_channels.testing.fakes import InMemoryEventStore, in_scope


def _agent_id(event: ConversationEvent) -> str | None:
    return getattr(event, "agent_id", None)


def _response_time(event: ConversationEvent) -> float | None:
    return getattr(event, "response_time_ms", None)


def _confidence(event: ConversationEvent) -> float | None:
    return getattr(event, "confidence", None)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _log_entry(event: ConversationEvent, length: int) -> LogEntry:
    text = getattr(event, "text", "")
    return LogEntry(
        id=event.id,
        tenant_id=event.tenant_id,
        channel=event.channel,
        type=event.type,
        direction=event.direction,
        occurred_at=event.occurred_at,
        participant=event.participant,
        preview=preview(text, length),
        agent_id=_agent_id(event),
        confidence=_confidence(event),
        response_time_ms=_response_time(event),
        session_id=event.session_id,
        error_code=getattr(event, "error_code", None),
        outcome_unknown=getattr(event, "outcome_unknown", False),
    )


class InMemoryMonitoringReader:
    """A :class:`~walker_channels.ports.MonitoringReader` over an :class:`InMemoryEventStore`."""

    def __init__(self, events: InMemoryEventStore) -> None:
        self._store = events

    def _matching(self, query: StatsQuery | LogQuery) -> list[ConversationEvent]:
        return [
            e
            for e in self._store.events
            if in_scope(query.scope, e.tenant_id)
            and (query.start is None or e.occurred_at >= query.start)
            and (query.end is None or e.occurred_at < query.end)
            and (query.channel is None or e.channel is query.channel)
        ]

    async def logs(self, query: LogQuery) -> Page[LogEntry]:
        """A page of the log, newest first, by keyset on ``(occurred_at, id)``."""
        rows = [
            e
            for e in self._matching(query)
            if (query.direction is None or e.direction is query.direction)
            and (query.participant is None or e.participant == query.participant)
        ]
        if query.cursor is not None:
            position = decode_cursor(query.cursor)
            rows = [e for e in rows if (e.occurred_at, e.id) < position]
        rows.sort(key=lambda e: (e.occurred_at, e.id), reverse=True)
        page = rows[: query.limit]
        more = len(rows) > query.limit
        cursor = encode_cursor(page[-1].occurred_at, page[-1].id) if more else None
        items = tuple(_log_entry(e, query.preview_length) for e in page)
        return Page[LogEntry](items=items, next_cursor=cursor)

    async def stats(self, query: StatsQuery) -> ConversationStats:
        """Totals, rates, percentiles and distributions, computed in Python."""
        matching = self._matching(query)
        types = Counter(e.type for e in matching)
        outcomes = [e for e in matching if is_agent_outcome(e)]
        times = sorted(t for e in outcomes if (t := _response_time(e)) is not None)
        p50, p95, p99 = response_percentiles(response_histogram(times), PERCENTILES)
        sent, failed = types[EventType.OUTBOUND], types[EventType.OUTBOUND_FAILED]
        bad = [e for e in matching if event_success(e) is False]
        return ConversationStats(
            inbound_total=types[EventType.INBOUND],
            outbound_total=sent,
            failed_total=failed,
            escalated_total=types[EventType.ESCALATED],
            avg_response_ms=_mean(times),
            p50_response_ms=p50,
            p95_response_ms=p95,
            p99_response_ms=p99,
            confidence_buckets=_buckets(outcomes),
            hitl_rate=ratio(types[EventType.ESCALATED], len(outcomes)),
            success_rate=send_success_rate(
                sent,
                sum(e.type is EventType.OUTBOUND_FAILED for e in bad),
                sum(e.type is EventType.DELIVERY_STATUS for e in bad),
            ),
            unique_users=len({e.participant for e in matching}),
            hourly_distribution=_hourly(matching),
            top_agents=_top_agents(outcomes),
            unknown_recipient_messages=(
                sum(map(is_unknown_recipient, matching)) if query.scope.tenant_ids is None else None
            ),
            handoffs_total=types[EventType.HANDOFF_STARTED],
            human_replies_total=types[EventType.HUMAN_REPLY],
            opt_outs=types[EventType.OPTED_OUT],
            opt_ins=types[EventType.OPTED_IN],
            avg_sentiment=_mean(_scores(matching)),
        )

    async def agent_analytics(self, query: StatsQuery) -> Sequence[AgentAnalytics]:
        """Per-agent figures, busiest agent first (ties by agent id)."""
        seconds = window_seconds(query.uptime_window)
        by_agent: defaultdict[str, list[ConversationEvent]] = defaultdict(list)
        handed: defaultdict[str, Counter[EventType]] = defaultdict(Counter)
        for event in self._matching(query):
            agent = _agent_id(event)
            if agent is None:
                continue
            if is_agent_outcome(event):
                by_agent[agent].append(event)
            elif event.type in (EventType.HANDOFF_STARTED, EventType.HUMAN_REPLY):
                handed[agent][event.type] += 1
        moods = _agent_sentiments(self._matching(query), by_agent)
        results = [
            _analytics(agent, by_agent.get(agent, []), seconds).replace(
                handoffs=handed[agent][EventType.HANDOFF_STARTED],
                human_replies=handed[agent][EventType.HUMAN_REPLY],
                avg_sentiment=moods.get(agent),
            )
            for agent in {*by_agent, *handed}
        ]
        return sorted(results, key=lambda a: (-a.interactions, a.agent_id))


def _scores(events: Iterable[ConversationEvent]) -> list[float]:
    """The sentiment scores of the inbound messages among ``events``."""
    return [s for e in events if isinstance(e, InboundEvent) and (s := e.sentiment) is not None]


def _agent_sentiments(
    matching: Sequence[ConversationEvent], outcomes: Mapping[str, Sequence[ConversationEvent]]
) -> dict[str, float]:
    """Per agent, the mean score of the inbound messages of the sessions it answered in."""
    by_session: defaultdict[tuple[str | None, str], list[ConversationEvent]] = defaultdict(list)
    for event in matching:
        if event.session_id is not None:
            by_session[event.tenant_id, event.session_id].append(event)
    moods: dict[str, float] = {}
    for agent, rows in outcomes.items():
        sessions = {(e.tenant_id, e.session_id) for e in rows if e.session_id is not None}
        mean = _mean([s for key in sessions for s in _scores(by_session[key])])
        if mean is not None:
            moods[agent] = mean
    return moods


def _buckets(outcomes: Iterable[ConversationEvent]) -> tuple[ConfidenceBucket, ...]:
    counts = Counter(confidence_bucket(c) for e in outcomes if (c := _confidence(e)) is not None)
    return tuple(
        ConfidenceBucket(lower=lower, upper=upper, count=counts[i])
        for i, (lower, upper) in enumerate(confidence_bounds())
    )


def _hourly(matching: Iterable[ConversationEvent]) -> tuple[int, ...]:
    hours = Counter(
        e.occurred_at.astimezone(UTC).hour for e in matching if e.type is EventType.INBOUND
    )
    return tuple(hours[h] for h in range(24))


def _top_agents(outcomes: Iterable[ConversationEvent]) -> tuple[AgentCount, ...]:
    counts = Counter(agent for e in outcomes if (agent := _agent_id(e)) is not None)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_AGENTS]
    return tuple(AgentCount(agent_id=agent, interactions=n) for agent, n in ranked)


def _analytics(agent: str, rows: Sequence[ConversationEvent], seconds: int) -> AgentAnalytics:
    types = Counter(e.type for e in rows)
    sent, failed = types[EventType.OUTBOUND], types[EventType.OUTBOUND_FAILED]
    windows: dict[int, bool] = {}
    for event in rows:
        index = window_index(event.occurred_at, seconds)
        windows[index] = windows.get(index, False) or event_is_error(event)
    return AgentAnalytics(
        agent_id=agent,
        interactions=len(rows),
        avg_response_ms=_mean([t for e in rows if (t := _response_time(e)) is not None]),
        avg_confidence=_mean([c for e in rows if (c := _confidence(e)) is not None]),
        hitl_rate=ratio(types[EventType.ESCALATED], len(rows)),
        success_rate=ratio(sent, sent + failed),
        error_rate=ratio(sum(event_is_error(e) for e in rows), len(rows)),
        uptime=ratio(sum(not had_error for had_error in windows.values()), len(windows)),
    )
