"""The one place where SQLite and PostgreSQL differ: upserts, row locks and date arithmetic.

Every store builds its statements from :class:`SqlDialect`, so the rest of the package is
the same code on both databases.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from walker_channels.exceptions import ConfigurationError

SUPPORTED = ("postgresql", "sqlite")
Insert = postgresql.Insert | sqlite.Insert
AGGREGATE_WORK_MEM = "128MB"
"""Memory for one sort or hash of an admin aggregate (a constant: never user input).

The planner has no statistics for the CASE keys of ``aggregates.breakdown`` and guesses
up to a group per event (a few hundred in fact): below this, at 1M events, it plans a
sort of every row instead of a hash (EXPLAIN ANALYZE: 1.8 s against 0.67 s on a loaded
machine). The hash it sizes by that guess holds 49 MB at 1M events.
"""


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
        """Give the next statement of this transaction room to sort or hash in memory, and
        no JIT compilation.

        PostgreSQL's default ``work_mem`` (4 MB) sends a sort of the response times or the
        per-agent hourly windows of a long history to temporary files (EXPLAIN ANALYZE:
        ``Disk Usage``); ``SET LOCAL`` ends with the transaction. SQLite has no such limit.
        """
        if self.is_postgresql:
            # JIT compiles the expressions of a statement estimated as costly: 30 ms on the
            # stats of 1M events, and seconds of inlining once the estimate passes
            # jit_inline_above_cost (EXPLAIN ANALYZE showed 3 s), for a plan a few hundred
            # milliseconds long. set_config(..., true) is SET LOCAL: both in one round trip.
            settings = "set_config('work_mem', :memory, true), set_config('jit', 'off', true)"
            conn.execute(sa.text(f"SELECT {settings}"), {"memory": AGGREGATE_WORK_MEM})
