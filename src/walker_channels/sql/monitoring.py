"""The admin read side, computed in SQL: only aggregates and one page of rows leave the database.

Definitions of every figure are in :mod:`walker_channels.metrics`, the statements in
:mod:`walker_channels.sql.aggregates`. The statements of one admin query run concurrently on
separate pooled connections (each is one scan; together they finish sooner), so under
concurrent writes they may see slightly different moments. Tenant scoping is part of every
WHERE clause. Results hold pseudonyms as stored and 50-character redacted previews.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from walker_channels.metrics import (
    PERCENTILES,
    confidence_bounds,
    decode_cursor,
    encode_cursor,
    ratio,
    window_seconds,
)
from walker_channels.models import (
    AgentAnalytics,
    AgentCount,
    ConfidenceBucket,
    ConversationStats,
    LogEntry,
    LogQuery,
    Page,
    StatsQuery,
)
from walker_channels.privacy import preview
from walker_channels.sql import aggregates
from walker_channels.sql.aggregates import OUTCOME, Statement, Where, filters
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import UtcDateTime, events

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


def _log_entry(row: Mapping[Any, Any]) -> LogEntry:
    fields = dict(row)
    text = fields.pop("text")
    return LogEntry.model_validate(
        {**fields, "preview": preview(text) if isinstance(text, str) else ""}
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
        if query.cursor is not None:
            at, event_id = decode_cursor(query.cursor)
            position = sa.tuple_(
                sa.bindparam("cursor_at", at, type_=UtcDateTime()),
                sa.bindparam("cursor_id", event_id, type_=sa.String()),
            )
            conditions.append(sa.tuple_(_e.occurred_at, _e.id) < position)
        stmt = (
            sa.select(*_LOG_COLUMNS, _e.data["text"].as_string().label("text"))
            .where(*conditions)
            .order_by(_e.occurred_at.desc(), _e.id.desc())
            .limit(query.limit + 1)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        items = tuple(_log_entry(row) for row in rows[: query.limit])
        more = len(rows) > query.limit
        cursor = encode_cursor(items[-1].occurred_at, items[-1].id) if more else None
        return Page[LogEntry](items=items, next_cursor=cursor)

    async def stats(self, query: StatsQuery) -> ConversationStats:
        """Totals, rates, response-time percentiles and distributions for the query."""
        where = filters(query.scope, query.start, query.end, query.channel)
        dialect = self._db.dialect
        totals, users, hours, buckets, top, (p50, p95, p99) = await asyncio.gather(
            self._rows(aggregates.totals(where)),
            self._rows(aggregates.unique_users(where)),
            self._rows(aggregates.hourly(dialect, where)),
            self._rows(aggregates.confidence_buckets(dialect, where)),
            self._rows(aggregates.top_agents(where)),
            self._percentiles(where),
        )
        (inbound, sent, failed, escalated, avg_response), ((unique,),) = totals[0], users
        return ConversationStats(
            inbound_total=inbound,
            outbound_total=sent,
            failed_total=failed,
            escalated_total=escalated,
            avg_response_ms=avg_response,
            p50_response_ms=p50,
            p95_response_ms=p95,
            p99_response_ms=p99,
            confidence_buckets=_buckets(buckets),
            hitl_rate=ratio(escalated, sent + failed + escalated),
            success_rate=ratio(sent, sent + failed),
            unique_users=unique,
            hourly_distribution=_hourly(hours),
            top_agents=tuple(AgentCount(agent_id=a, interactions=n) for a, n in top),
        )

    async def agent_analytics(self, query: StatsQuery) -> Sequence[AgentAnalytics]:
        """Per-agent figures, busiest agent first (ties by agent id)."""
        seconds = window_seconds(query.uptime_window)
        where = [
            *filters(query.scope, query.start, query.end, query.channel),
            OUTCOME,
            _e.agent_id.is_not(None),
        ]
        agents, windows = await asyncio.gather(
            self._rows(aggregates.per_agent(where)),
            self._rows(aggregates.agent_windows(self._db.dialect, where, seconds)),
        )
        uptime = {agent: ratio(clean, total) for agent, total, clean in windows}
        return [
            AgentAnalytics(
                agent_id=row.agent_id,
                interactions=row.interactions,
                avg_response_ms=row.avg_response,
                avg_confidence=row.avg_confidence,
                hitl_rate=ratio(row.escalated, row.interactions),
                success_rate=ratio(row.sent, row.sent + row.failed),
                error_rate=ratio(row.errors, row.interactions),
                uptime=uptime.get(row.agent_id),
            )
            for row in agents
        ]

    async def _rows(self, stmt: Statement) -> Sequence[Any]:
        async with self._db.read() as conn:
            rows: Sequence[Any] = (await conn.execute(stmt)).all()
        return rows

    async def _percentiles(self, where: Where) -> tuple[float | None, ...]:
        values = aggregates.response_times(where)
        async with self._db.read() as conn:
            return await self._db.dialect.percentiles(conn, values, PERCENTILES)


def _hourly(rows: Sequence[Any]) -> tuple[int, ...]:
    counts = {int(hour): int(n) for hour, n in rows}
    return tuple(counts.get(hour, 0) for hour in range(24))


def _buckets(rows: Sequence[Any]) -> tuple[ConfidenceBucket, ...]:
    counts = {int(index): int(n) for index, n in rows}
    return tuple(
        ConfidenceBucket(lower=lower, upper=upper, count=counts.get(i, 0))
        for i, (lower, upper) in enumerate(confidence_bounds())
    )
