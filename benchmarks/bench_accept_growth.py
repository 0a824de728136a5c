"""Accept cost against the size of the tenant's event log: 10k, 100k and 1M events already in it.

The log is filled by bulk SQL (``INSERT ... SELECT`` over a generated series: seconds, not a
Python loop), spread over 1,000 people of the same tenant; then the stores are opened afresh
(a process starting on an existing database) and ``ACCEPTS`` accepts are timed through the
SQL accept store (:class:`walker_channels.sql.SqlAcceptStore`, the whole database part of a
webhook): half from people with a conversation row, half from people never seen before, whose
session is looked up in the log (the path that walked the log without statistics). Reported
per size: milliseconds per accept (wall and this process's CPU), and the ratio to the
smallest size; the aim is flat within 20 %.

Run: ``python benchmarks/bench_accept_growth.py`` (SQLite; PostgreSQL too with
``WALKER_BENCH_POSTGRES_URL`` or ``WALKER_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from walker_channels.models import Address, Channel, InboundMessage
from walker_channels.services.intake import MessageArrival
from walker_channels.sql import SqlStores

SIZES = (10_000, 100_000, 1_000_000)
ACCEPTS = 400
PEOPLE = 1_000
NUMBER = Address(channel=Channel.WHATSAPP, value="+14155238886")
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Events ``:start`` .. ``:stop`` - 1, one a minute from T0, person n % PEOPLE, with a session.
_SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT :start UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :stop)
INSERT INTO walker_events (id, tenant_id, channel, type, direction, occurred_at, participant,
    is_error, session_id, data)
SELECT 'ev' || i, 'bench', 'whatsapp', 'inbound', 'inbound',
    strftime('%Y-%m-%d %H:%M:%S', '2026-01-01', '+' || i || ' minutes') || '.000000',
    'p' || (i % 1000), 0, 'bench-whatsapp-p' || (i % 1000) || '-1', '{}'
FROM n
"""
_PG_FILL = """
INSERT INTO walker_events (id, tenant_id, channel, type, direction, occurred_at, participant,
    is_error, session_id, data)
SELECT 'ev' || i, 'bench', 'whatsapp', 'inbound', 'inbound',
    timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute',
    'p' || (i % 1000), false, 'bench-whatsapp-p' || (i % 1000) || '-1', '{}'::jsonb
FROM generate_series(:start, :stop - 1) AS i
"""


def arrival(n: int, person: str, at: datetime) -> MessageArrival:
    """Message ``n`` from ``person`` at ``at``."""
    message = InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=f"SM{n:032x}",
        sender=Address(channel=Channel.WHATSAPP, value=f"+1415555{n % 10_000:04d}"),
        recipient=NUMBER,
        text="hello",
        received_at=at,
    )
    return MessageArrival(message, person, at, timedelta(hours=24))


async def fill(stores: SqlStores, start: int, stop: int) -> None:
    """Insert events ``start`` .. ``stop`` - 1 of the tenant's log."""
    sql = _PG_FILL if stores.engine.dialect.name == "postgresql" else _SQLITE_FILL
    step = 200_000  # SQLite's recursive CTE and PostgreSQL's WAL both prefer bounded batches
    for first in range(start, stop, step):
        params = {"start": first, "stop": min(first + step, stop)}
        async with stores.engine.begin() as conn:
            await conn.execute(sa.text(sql), params)


async def timed(open_stores: SqlStores, size: int, offset: int) -> tuple[float, float]:
    """Milliseconds per accept (wall, CPU) over ``ACCEPTS`` accepts, after a warm-up."""
    accepts = open_stores.accepts
    at = T0 + timedelta(minutes=size + 10)
    # Warm-up: the first write of a process gathers SQLite's statistics (sql.engine).
    for n in range(20):
        await accepts.accept(NUMBER, arrival(offset + n, f"p{n}", at))
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(20, 20 + ACCEPTS):
        # Even: a person with a conversation row by now; odd: someone new to this tenant.
        person = f"p{n % 10}" if n % 2 == 0 else f"new-{offset}-{n}"
        await accepts.accept(NUMBER, arrival(offset + n, person, at))
    return (
        (time.perf_counter() - wall) / ACCEPTS * 1e3,
        (time.process_time() - cpu) / ACCEPTS * 1e3,
    )


async def measure(url: str, schema: str | None) -> list[tuple[int, float, float, float]]:
    """Per size: wall ms, CPU ms, seconds to fill."""
    async with SqlStores.from_url(url, schema=schema) as stores:
        await stores.upgrade()
        await stores.tenants.add_number("bench", NUMBER)
    rows, filled = [], 0
    for index, size in enumerate(SIZES):
        began = time.perf_counter()
        async with SqlStores.from_url(url, schema=schema) as stores:
            await fill(stores, filled, size)
        filling, filled = time.perf_counter() - began, size
        # Opened afresh: a process starting on a database of this size.
        async with SqlStores.from_url(url, schema=schema) as stores:
            wall, cpu = await timed(stores, size, (index + 1) * 1_000_000)
        rows.append((size, wall, cpu, filling))
    return rows


def report(name: str, rows: list[tuple[int, float, float, float]]) -> None:
    """The table for one database."""
    base = rows[0][1]
    print(f"{name}: accept through SqlAcceptStore, {ACCEPTS} accepts per size")
    print(f"{'events in log':>14} {'wall ms':>8} {'CPU ms':>7} {'ratio':>6} {'fill s':>7}")
    for size, wall, cpu, filling in rows:
        print(f"{size:>14,} {wall:>8.2f} {cpu:>7.2f} {wall / base:>6.2f} {filling:>7.1f}")


async def main() -> None:
    """SQLite, then PostgreSQL when a server is configured."""
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite", await measure(f"sqlite:///{Path(tmp) / 'growth.db'}", None))
    url = os.environ.get("WALKER_BENCH_POSTGRES_URL") or os.environ.get("WALKER_TEST_POSTGRES_URL")
    if not url:
        print("no WALKER_BENCH_POSTGRES_URL / WALKER_TEST_POSTGRES_URL: SQLite only")
        return
    schema = "growth_" + secrets.token_hex(4)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        report("PostgreSQL", await measure(url, schema))
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
