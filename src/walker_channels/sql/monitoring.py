"""The admin read side, computed in SQL: only aggregates and one page of rows leave the database.

Definitions of every figure are in :mod:`walker_channels.metrics`, the statements in
:mod:`walker_channels.sql.aggregates`. The statements of one admin query run concurrently on
separate pooled connections (each is one scan; together they finish sooner), so under
concurrent writes they may see slightly different moments. Tenant scoping is part of every
WHERE clause. Results hold pseudonyms as stored and 50-character redacted previews.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa

from walker_channels.metrics import (
    PERCENTILES,
    TOP_AGENTS,
    confidence_bounds,
    decode_cursor,
    encode_cursor,
    ratio,
    response_percentiles,
    send_success_rate,
    window_seconds,
)
from walker_channels.models import (
    AgentAnalytics,
    AgentCount,
    ConfidenceBucket,
    ConversationStats,
    EventType,
    LogEntry,
    LogQuery,
    Page,
    StatsQuery,
)
from walker_channels.privacy import preview
from walker_channels.sql import aggregates, rollups
from walker_channels.sql.aggregates import OUTCOME, Statement, Where, filters
from walker_channels.sql.dialect import SqlDialect
from walker_channels.sql.engine import Database
from walker_channels.sql.figures import Figures
from walker_channels.sql.rollups import RollupPlan
from walker_channels.sql.tables import UtcDateTime, day_figures, day_users, events

_e = events.c
_LOG_COLUMNS = (
    _e.id,
    _e.tenant_id,
    _e.channel,
    _e.type,
    _e.direction,
    _e.occurred_at,
    _e.participant,
    _e.agent_id,
    _e.confidence,
    _e.response_time_ms,
    _e.session_id,
)


def _log_entry(row: Mapping[Any, Any], length: int) -> LogEntry:
    fields = dict(row)
    text = fields.pop("text")
    fields["outcome_unknown"] = bool(fields["outcome_unknown"])
    return LogEntry.model_validate(
        {**fields, "preview": preview(text, length) if isinstance(text, str) else ""}
    )


class SqlMonitoringReader:
    """A :class:`~walker_channels.ports.MonitoringReader` over ``walker_events``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def logs(self, query: LogQuery) -> Page[LogEntry]:
        """A page of the log, newest first, by keyset pagination on ``(occurred_at, id)``."""
        conditions = filters(query.scope, query.start, query.end, query.channel)
        if query.direction is not None:
            conditions.append(_e.direction == query.direction.value)
        if query.participant is not None:
            conditions.append(_e.participant == query.participant)
        if query.cursor is not None:
            at, event_id = decode_cursor(query.cursor)
            position = sa.tuple_(
                sa.bindparam("cursor_at", at, type_=UtcDateTime()),
                sa.bindparam("cursor_id", event_id, type_=sa.String()),
            )
            conditions.append(sa.tuple_(_e.occurred_at, _e.id) < position)
        stmt = (
            sa.select(
                *_LOG_COLUMNS,
                _e.data["text"].as_string().label("text"),
                _e.data["error_code"].as_string().label("error_code"),
                _e.data["outcome_unknown"].as_boolean().label("outcome_unknown"),
            )
            .where(*conditions)
            .order_by(_e.occurred_at.desc(), _e.id.desc())
            .limit(query.limit + 1)
        )
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        items = tuple(_log_entry(row, query.preview_length) for row in rows[: query.limit])
        more = len(rows) > query.limit
        cursor = encode_cursor(items[-1].occurred_at, items[-1].id) if more else None
        return Page[LogEntry](items=items, next_cursor=cursor)

    async def stats(self, query: StatsQuery) -> ConversationStats:
        """Totals, rates, response-time percentiles and distributions for the query.

        Rolled-up days (``sql.rollups``) are read from their rollups, the rest of the range
        from the events.
        """
        where = filters(query.scope, query.start, query.end, query.channel)
        plan = await self._db.run(partial(rollups.plan, query.start, query.end))
        folded, users, unknown = await asyncio.gather(
            self._figures(query, where, plan),
            self._users(query, where, plan),
            self._unknown_recipients(query, where),
        )
        p50, p95, p99 = response_percentiles(folded.histogram(), PERCENTILES)
        sent, failed = folded.types[EventType.OUTBOUND], folded.types[EventType.OUTBOUND_FAILED]
        escalated = folded.types[EventType.ESCALATED]
        return ConversationStats(
            inbound_total=folded.types[EventType.INBOUND],
            outbound_total=sent,
            failed_total=failed,
            escalated_total=escalated,
            avg_response_ms=_mean(folded.response_sum, folded.responses),
            p50_response_ms=p50,
            p95_response_ms=p95,
            p99_response_ms=p99,
            confidence_buckets=_buckets(folded.buckets),
            hitl_rate=ratio(escalated, folded.outcomes),
            success_rate=send_success_rate(sent, folded.refused, folded.undelivered),
            unique_users=users,
            hourly_distribution=tuple(folded.hours[hour] for hour in range(24)),
            top_agents=tuple(
                AgentCount(agent_id=agent, interactions=n)
                for agent, n in _busiest(folded.agents.items())[:TOP_AGENTS]
            ),
            unknown_recipient_messages=unknown,
            handoffs_total=folded.types[EventType.HANDOFF_STARTED],
            human_replies_total=folded.types[EventType.HUMAN_REPLY],
            opt_outs=folded.types[EventType.OPTED_OUT],
            opt_ins=folded.types[EventType.OPTED_IN],
            avg_sentiment=_mean(folded.sentiment_sum, folded.sentiments),
        )

    async def agent_analytics(self, query: StatsQuery) -> Sequence[AgentAnalytics]:
        """Per-agent figures, busiest agent first (ties by agent id)."""
        seconds = window_seconds(query.uptime_window)
        common = filters(query.scope, query.start, query.end, query.channel)
        where = [*common, OUTCOME, _e.agent_id.is_not(None)]
        summary = aggregates.agent_summary(self._db.dialect, where, seconds)
        rows, handed, moods = await asyncio.gather(
            self._db.run(partial(_large_aggregate, self._db.dialect, summary)),
            self._rows(aggregates.handoffs(common)),
            self._rows(aggregates.agent_sentiment(common)),
        )
        agents = {row.agent_id: _agent(row) for row in rows}
        for row in moods:
            # Only agents with outcomes answered a session: each is in ``agents`` already.
            agents[row.agent_id] = agents[row.agent_id].replace(
                avg_sentiment=_mean(row.sentiment_sum, row.sentiments)
            )
        for row in handed:
            agent = agents.get(row.agent_id) or _no_outcomes(row.agent_id)
            counts = {"handoffs": int(row.handoffs), "human_replies": int(row.human_replies)}
            agents[row.agent_id] = agent.replace(**counts)
        return sorted(agents.values(), key=lambda a: (-a.interactions, a.agent_id))

    async def _rows(self, stmt: Statement) -> Sequence[Any]:
        rows: Sequence[Any] = await self._db.run(lambda conn: conn.execute(stmt).all())
        return rows

    async def _aggregate(self, stmt: Statement) -> Sequence[Any]:
        """``stmt``'s rows, with the settings of a scan of the whole range (no JIT)."""
        return await self._db.run(partial(_large_aggregate, self._db.dialect, stmt))

    async def _unknown_recipients(self, query: StatsQuery, where: Where) -> int | None:
        if query.scope.tenant_ids is not None:
            return None  # messages to nobody's number belong to no tenant's figures
        rows = await self._rows(aggregates.unknown_recipients(where))
        return int(rows[0][0])

    async def _figures(self, query: StatsQuery, where: Where, plan: RollupPlan) -> Figures:
        """The range's figures: the events' outside the rolled days, the rollups' inside."""
        folded = Figures()
        reads: list[tuple[Callable[[Sequence[Any]], None], Statement]] = []
        raw = plan.raw_where(where)
        if raw is not None:
            reads.append((folded.add_breakdown, aggregates.breakdown(self._db.dialect, raw)))
            reads.append((folded.add_histogram, aggregates.response_histogram(raw)))
        if plan.runs:
            rolled = plan.rolled_where(day_figures, query.scope, query.channel)
            reads.append((folded.add_figures, rollups.figures(rolled)))
        found = await asyncio.gather(*(self._aggregate(stmt) for _, stmt in reads))
        for (add, _), rows in zip(reads, found, strict=True):
            add(rows)
        return folded

    async def _users(self, query: StatsQuery, where: Where, plan: RollupPlan) -> int:
        """Distinct people: exact from the events alone, estimated where days are rolled."""
        if not plan.runs:
            return int((await self._aggregate(aggregates.unique_users(where)))[0][0])
        rolled = plan.rolled_where(day_users, query.scope, query.channel)
        raw = plan.raw_where(where)
        sketched, people = await asyncio.gather(
            self._rows(rollups.sketches(rolled)),
            self._aggregate(aggregates.participants(raw)) if raw is not None else _nothing(),
        )
        return rollups.count_users((row[0] for row in sketched), (row[0] for row in people))


async def _nothing() -> Sequence[Any]:
    return ()


def _large_aggregate(dialect: SqlDialect, stmt: Statement, conn: sa.Connection) -> Sequence[Any]:
    dialect.allow_large_aggregate(conn)
    return conn.execute(stmt).all()


def _busiest(counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    # Sorted here, not in SQL: ties go by code point, as in the reference, not by collation.
    return sorted(counts, key=lambda item: (-item[1], item[0]))


def _mean(total: Any, count: Any) -> float | None:
    return float(total) / int(count) if count else None


def _agent(row: Any) -> AgentAnalytics:
    interactions, sent, failed = int(row.n), int(row.sent), int(row.failed)
    return AgentAnalytics(
        agent_id=row.agent_id,
        interactions=interactions,
        avg_response_ms=_mean(row.response_sum, row.responses),
        avg_confidence=_mean(row.confidence_sum, row.confidences),
        hitl_rate=ratio(int(row.escalated), interactions),
        success_rate=ratio(sent, sent + failed),
        error_rate=ratio(int(row.errors), interactions),
        uptime=ratio(int(row.clean), int(row.windows)),
    )


def _no_outcomes(agent_id: str) -> AgentAnalytics:
    """An agent with handoffs in the range but no outcomes of its own."""
    return AgentAnalytics(
        agent_id=agent_id,
        interactions=0,
        avg_response_ms=None,
        avg_confidence=None,
        hitl_rate=None,
        success_rate=None,
        error_rate=None,
        uptime=None,
    )


def _buckets(counts: Counter[int]) -> tuple[ConfidenceBucket, ...]:
    return tuple(
        ConfidenceBucket(lower=lower, upper=upper, count=counts[i])
        for i, (lower, upper) in enumerate(confidence_bounds())
    )
