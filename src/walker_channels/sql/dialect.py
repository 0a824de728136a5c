"""The one place where SQLite and PostgreSQL differ: upserts, row locks and date arithmetic.

Every store builds its statements from :class:`SqlDialect`, so the rest of the package is
the same code on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from walker_channels.exceptions import ConfigurationError

SUPPORTED = ("postgresql", "sqlite")
Insert = postgresql.Insert | sqlite.Insert
AGGREGATE_WORK_MEM = "64MB"
"""Memory for one sort or hash of an admin aggregate (a constant: never user input)."""


class SqlDialect:
    """Dialect-specific statement pieces for ``name`` (``sqlite`` or ``postgresql``)."""

    def __init__(self, name: str) -> None:
        if name not in SUPPORTED:
            raise ConfigurationError("walker-channels stores support SQLite and PostgreSQL only")
        self.name = name

    @property
    def is_postgresql(self) -> bool:
        """Whether this is PostgreSQL."""
        return self.name == "postgresql"

    def insert(self, table: sa.Table) -> Insert:
        """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (same API)."""
        return postgresql.insert(table) if self.is_postgresql else sqlite.insert(table)

    def skip_locked(self, select: sa.Select[Any]) -> sa.Select[Any]:
        """Lock the selected rows, skipping rows others hold (PostgreSQL).

        SQLite has no row locks: its writes run under ``BEGIN IMMEDIATE`` (see ``engine``),
        which serialises writers, so the enclosing UPDATE is atomic there.
        """
        return select.with_for_update(skip_locked=True) if self.is_postgresql else select

    def hour_of_day(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """The UTC hour (0-23) of a :class:`~walker_channels.sql.tables.UtcDateTime` column."""
        if self.is_postgresql:
            # Constants are inlined so GROUP BY repeats the very expression the SELECT has.
            # date_part returns a double; EXTRACT returns numeric, which is slower to compute.
            utc = sa.func.timezone(sa.literal_column("'UTC'"), column)
            return sa.cast(sa.func.date_part(sa.literal_column("'hour'"), utc), sa.Integer)
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (UtcDateTime): the hour is characters
        # 12-13, much cheaper to cut out than to parse the whole time with strftime.
        return sa.cast(sa.func.substr(column, 12, 2), sa.Integer)

    def time_window(self, column: sa.ColumnElement[Any], seconds: int) -> sa.ColumnElement[int]:
        """``floor(epoch seconds / seconds)`` of a UTC datetime column."""
        width: sa.ColumnClause[Any] = sa.literal_column(str(int(seconds)))
        if self.is_postgresql:
            epoch = sa.func.date_part(sa.literal_column("'epoch'"), column)
            return sa.cast(sa.func.floor(epoch.op("/")(width)), sa.BigInteger)
        # SQLite divides two integers as integers: floor for the positive epochs stored here.
        return sa.cast(sa.func.strftime("%s", column), sa.BigInteger).op("/")(width)

    def floor_int(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """``floor`` of a non-negative number as an integer (PostgreSQL's cast rounds)."""
        if self.is_postgresql:
            return sa.cast(sa.func.floor(value), sa.Integer)
        return sa.cast(value, sa.Integer)

    def allow_large_aggregate(self, conn: sa.Connection) -> None:
        """Give the next statement of this transaction room to sort or hash in memory.

        PostgreSQL's default ``work_mem`` (4 MB) sends a sort of the response times or the
        per-agent hourly windows of a long history to temporary files (EXPLAIN ANALYZE:
        ``Disk Usage``); ``SET LOCAL`` ends with the transaction. SQLite has no such limit.
        """
        if self.is_postgresql:
            conn.execute(sa.text(f"SET LOCAL work_mem = '{AGGREGATE_WORK_MEM}'"))

    def percentiles(
        self, conn: sa.Connection, values: sa.Subquery, fractions: Sequence[float]
    ) -> tuple[float | None, ...]:
        """Linearly interpolated percentiles of ``values.c.v``, computed in the database."""
        if self.is_postgresql:
            self.allow_large_aggregate(conn)
            # One ordered-set aggregate with an array of fractions: a single sort for all.
            wanted = postgresql.array([sa.literal(f, sa.Float) for f in fractions])
            call = sa.func.percentile_cont(wanted, type_=postgresql.ARRAY(sa.Float))
            found = conn.execute(sa.select(call.within_group(values.c.v))).scalar()
            return tuple(float(v) for v in found) if found else tuple(None for _ in fractions)
        return self._ranked_percentiles(conn, values, fractions)

    def _ranked_percentiles(
        self, conn: sa.Connection, values: sa.Subquery, fractions: Sequence[float]
    ) -> tuple[float | None, ...]:
        # SQLite has no percentile_cont: rank the values once with window functions and fetch
        # only the (at most two per fraction) rows the interpolation needs.
        ranked = sa.select(
            values.c.v.label("v"),
            (sa.func.row_number().over(order_by=values.c.v) - 1).label("i"),
            sa.func.count().over().label("n"),
        ).subquery()
        lows = [sa.cast(sa.literal(f, sa.Float) * (ranked.c.n - 1), sa.Integer) for f in fractions]
        wanted = sa.or_(*(sa.or_(ranked.c.i == low, ranked.c.i == low + 1) for low in lows))
        stmt = sa.select(ranked.c.i, ranked.c.v, ranked.c.n).where(wanted)
        rows = conn.execute(stmt).all()
        if not rows:
            return tuple(None for _ in fractions)
        by_rank = {int(i): float(v) for i, v, _ in rows}
        count = int(rows[0].n)
        return tuple(_interpolate(by_rank, count, f) for f in fractions)


def _interpolate(by_rank: dict[int, float], count: int, fraction: float) -> float:
    position = fraction * (count - 1)
    lower = int(position)
    upper = min(lower + 1, count - 1)
    return by_rank[lower] + (by_rank[upper] - by_rank[lower]) * (position - lower)
