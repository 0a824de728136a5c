"""Daily rollups of the admin stats: each closed UTC day's figures in a few hundred rows.

:meth:`SqlRollups.roll` (the sweep loop calls it, or ``walker-channels db rollup``) rolls
every closed day not rolled yet, one transaction per day: the day's :class:`Figures` per
tenant and channel into ``walker_day_figures``, its participants as a HyperLogLog sketch into
``walker_day_users``, and the day into ``walker_rollup_days``. The stats of a range then read
the rolled days' rows and only the rest of the range (the partial days at its ends, today,
days not rolled or no longer valid) from the events (:class:`RollupPlan`).

A rollup never goes stale: every write into a day's events deletes that day's
``walker_rollup_days`` row in the writer's transaction (``sql.triggers``), so the reads take
it from the events again until the next roll. A roll on PostgreSQL holds ``walker_events`` in
SHARE mode while it reads the day (writers wait for that one day's roll, a few tens of
milliseconds, and a roll gives up after ``lock_timeout`` rather than queue writers behind a
long transaction) and ``walker_rollup_days`` in SHARE ROW EXCLUSIVE mode, so two rolls of
one day (two replicas) are one after the other and the second finds it done. On SQLite the
one writer does the same.

Distinct users over rolled days are an estimate: the union of the days' sketches and the
raw participants (``datasketches``' HLL, 2^16 registers: a relative standard error of
about 0.4 %, exact in practice for the first few hundred people of a range).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from datasketches import hll_sketch, hll_union

from walker_channels.models import Channel, Scope
from walker_channels.sql import aggregates
from walker_channels.sql.aggregates import Statement, Where
from walker_channels.sql.dialect import SqlDialect
from walker_channels.sql.engine import Database
from walker_channels.sql.figures import Figures
from walker_channels.sql.scope import scope_filter
from walker_channels.sql.tables import day_figures, day_users, events, rollup_days

LG_K = 16
"""log2 of the HyperLogLog sketches' registers (relative standard error 1.04 / 2^8)."""
SETTLE = timedelta(hours=1)
"""A day is rolled once it has been over for this long (late writes stay cheap)."""
LOCK_TIMEOUT = "2s"
"""How long a PostgreSQL roll waits for the writers in flight before it gives up for now."""
_DAY = timedelta(days=1)
_e = events.c
Source = tuple[str | None, str]
"""A tenant (``None``: messages to nobody's number) and a channel."""
DayRun = tuple[date, date]
"""Consecutive rolled days ``[first, end)``."""


@dataclass(frozen=True)
class RollupPlan:
    """How a range's stats are read: the rolled days' rows, the rest from the events."""

    runs: tuple[DayRun, ...]
    """The rolled days wholly inside the range, as runs of consecutive days."""
    start: datetime | None
    end: datetime | None

    def raw_where(self, where: Where) -> Where | None:
        """``where`` narrowed to what the events must still give; ``None``: nothing."""
        if not self.runs:
            return where
        edges = [self.start]
        for first, end in self.runs:
            edges += [_midnight(first), _midnight(end)]
        edges.append(self.end)
        gaps = [(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True) if a != b]
        if not gaps:
            return None
        return [*where, sa.or_(*(_between(a, b) for a, b in gaps))]

    def rolled_where(self, table: sa.Table, scope: Scope, channel: Channel | None) -> Where:
        """The conditions on a rollup table for the rolled days of this range."""
        c = table.c
        days = sa.or_(*(sa.and_(c.day >= first, c.day < end) for first, end in self.runs))
        where = [days, scope_filter(scope, c.tenant_id)]
        if channel is not None:
            where.append(c.channel == channel.value)
        return where


def plan(start: datetime | None, end: datetime | None, conn: sa.Connection) -> RollupPlan:
    """The rolled days wholly inside ``[start, end)``."""
    stmt = sa.select(rollup_days.c.day).order_by(rollup_days.c.day)
    if start is not None:
        utc = start.astimezone(UTC)
        first = utc.date() if utc.timetz() == time(tzinfo=UTC) else utc.date() + _DAY
        stmt = stmt.where(rollup_days.c.day >= first)
    if end is not None:
        stmt = stmt.where(rollup_days.c.day < end.astimezone(UTC).date())
    return RollupPlan(runs=_runs(conn.execute(stmt).scalars()), start=start, end=end)


def figures(where: Where) -> Statement:
    """The rolled figures under ``where`` (``RollupPlan.rolled_where``), added up."""
    f = day_figures.c
    return (
        sa.select(
            f.kind,
            f.key,
            sa.func.sum(f.n),
            sa.func.sum(f.total),
            sa.func.min(f.low),
            sa.func.max(f.high),
        )
        .where(*where)
        .group_by(f.kind, f.key)
    )


def sketches(where: Where) -> Statement:
    """The rolled participant sketches under ``where`` (``RollupPlan.rolled_where``)."""
    return sa.select(day_users.c.sketch).where(*where)


def count_users(sketches: Iterable[bytes], participants: Iterable[str]) -> int:
    """The estimated number of distinct people in the union of ``sketches`` and ``participants``."""
    union = hll_union(LG_K)
    for sketch in sketches:
        union.update(hll_sketch.deserialize(sketch))
    raw = hll_sketch(LG_K)
    for participant in participants:
        raw.update(participant)
    union.update(raw)
    estimate: float = union.get_estimate()
    return round(estimate)


class SqlRollups:
    """Keeps the daily rollups of ``walker_events`` (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def roll(self, *, now: datetime | None = None, limit: int = 31) -> int:
        """Roll up to ``limit`` closed days not rolled (or no longer valid), oldest first;
        how many it rolled.

        ``now`` defaults to the database's clock, the one the triggers read; a ``now`` ahead
        of it would roll a day the triggers still take for today (tests give past times).
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if now is None:
            now = await self._db.run(_clock)
        before = (now - SETTLE).astimezone(UTC).date()
        rolled = 0
        for day in await self._db.run(partial(_due, before, limit)):
            rolled += await self._db.run(partial(_roll, self._db.dialect, day, now), write=True)
        if rolled:
            # Statistics for the planner: without them PostgreSQL guesses one row and sorts
            # every figure of a range instead of hashing (EXPLAIN ANALYZE: 290 against 60 ms).
            await self._db.run(_analyze, write=True)
        return rolled

    async def roll_all(self, *, now: datetime | None = None) -> int:
        """Roll every closed day due (``roll`` until none is left); how many it rolled."""
        total = 0
        while rolled := await self.roll(now=now):
            total += rolled
        return total


def _clock(conn: sa.Connection) -> datetime:
    if conn.dialect.name != "postgresql":
        return datetime.now(UTC)  # SQLite's date('now') reads this machine's clock too
    found: datetime = conn.execute(sa.select(sa.func.now())).scalar_one()
    return found.astimezone(UTC)


def _due(before: date, limit: int, conn: sa.Connection) -> list[date]:
    oldest: datetime | None = conn.execute(sa.select(sa.func.min(_e.occurred_at))).scalar()
    if oldest is None:
        return []
    first = oldest.date()
    stmt = sa.select(rollup_days.c.day).where(
        rollup_days.c.day >= first, rollup_days.c.day < before
    )
    done = set(conn.execute(stmt).scalars())
    days = (first + timedelta(days=i) for i in range((before - first).days))
    return [day for day in days if day not in done][:limit]


def _roll(dialect: SqlDialect, day: date, now: datetime, conn: sa.Connection) -> bool:
    if dialect.is_postgresql:
        conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        conn.execute(sa.text(f"LOCK TABLE {events.name} IN SHARE MODE"))
        conn.execute(sa.text(f"LOCK TABLE {rollup_days.name} IN SHARE ROW EXCLUSIVE MODE"))
    if conn.execute(sa.select(rollup_days.c.day).where(rollup_days.c.day == day)).first():
        return False  # another process rolled it meanwhile
    for table in (day_figures, day_users):
        conn.execute(sa.delete(table).where(table.c.day == day))
    where = [_e.occurred_at >= _midnight(day), _e.occurred_at < _midnight(day + _DAY)]
    by = (_e.tenant_id, _e.channel)
    found: defaultdict[Source, Figures] = defaultdict(Figures)
    for row in conn.execute(aggregates.breakdown(dialect, where, by)):
        found[row.tenant_id, row.channel].add_breakdown([row])
    for tenant, channel, *bucket in conn.execute(aggregates.response_histogram(where, by)):
        found[tenant, channel].add_histogram([bucket])
    people: defaultdict[Source, Any] = defaultdict(partial(hll_sketch, LG_K))
    for tenant, channel, participant in conn.execute(aggregates.participants(where, by)):
        people[tenant, channel].update(participant)
    source: dict[str, Any] = {"day": day}
    rows = [
        {**source, "tenant_id": tenant, "channel": channel, **figure._asdict()}
        for (tenant, channel), figures in found.items()
        for figure in figures.figures()
    ]
    _insert(conn, day_figures, rows)
    sketched = [
        {**source, "tenant_id": tenant, "channel": channel, "sketch": sketch.serialize_compact()}
        for (tenant, channel), sketch in people.items()
    ]
    _insert(conn, day_users, sketched)
    conn.execute(sa.insert(rollup_days).values(day=day, rolled_at=now))
    return True


def _analyze(conn: sa.Connection) -> None:
    for table in (rollup_days, day_figures, day_users):
        conn.execute(sa.text(f"ANALYZE {table.name}"))


def _insert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(table), rows)


def _runs(days: Iterable[date]) -> tuple[DayRun, ...]:
    runs: list[DayRun] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + _DAY)
        else:
            runs.append((day, day + _DAY))
    return tuple(runs)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _between(start: datetime | None, end: datetime | None) -> sa.ColumnElement[bool]:
    conditions = []
    if start is not None:
        conditions.append(_e.occurred_at >= start)
    if end is not None:
        conditions.append(_e.occurred_at < end)
    return sa.and_(*conditions)
