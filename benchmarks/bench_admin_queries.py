"""Admin queries in SQL against the same figures computed by loading every row into Python.

Bulk-loads N conversation events (default 1,000,000; rows per second reported) and 20,000
approvals into SQLite (a temp file) and PostgreSQL (a temporary schema, when
``WALKER_BENCH_POSTGRES_URL`` or ``WALKER_TEST_POSTGRES_URL`` is set). At N/10 and at N it
times each admin query (logs page, stats, per-agent analytics, review queue) through
``SqlStores.monitoring`` / ``approvals`` next to the baseline of the same run: read every row,
build the models and aggregate with ``InMemoryMonitoringReader`` (the seed system's way).
Memory: tracemalloc peak of the SQL queries at N/10 and N (flat), RSS held by the baseline.

Run: ``python benchmarks/bench_admin_queries.py [N]`` or ``WALKER_BENCH_EVENTS=100000``.
For the queries alone: ``--backend postgresql --bulk-sql --no-baseline --only stats`` (a
million events written by ``INSERT ... SELECT`` in seconds, see ``admin_bulk``); ``--keep``
keeps the loaded schema and ``--schema NAME`` times it again, e.g. from another checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import admin_bulk
import sqlalchemy as sa

from walker_channels.metrics import PERCENTILES
from walker_channels.models import (
    Address,
    Approval,
    Channel,
    ConversationEvent,
    EscalatedEvent,
    EscalationReason,
    InboundEvent,
    LogQuery,
    OutboundEvent,
    OutboundFailedEvent,
    RiskLevel,
    Scope,
    StatsQuery,
)
from walker_channels.privacy import pseudonymize
from walker_channels.sql import SqlStores
from walker_channels.sql.approvals import approval_from_row, approval_row
from walker_channels.sql.events import event_from_row
from walker_channels.sql.schemas import create_schema, temporary_schema
from walker_channels.sql.tables import approvals, events, rollup_days
from walker_channels.testing import (
    InMemoryApprovalStore,
    InMemoryEventStore,
    InMemoryMonitoringReader,
)

END = datetime(2026, 4, 1, tzinfo=UTC)
SPAN = timedelta(days=90)
ALL = Scope(tenant_ids=None)
APPROVALS = 20_000
REPEATS = 5
Query = Callable[[Any, Any], Awaitable[Any]]


def synthetic_events(count: int, seed: int) -> Iterator[ConversationEvent]:
    """Reproducible traffic: 10 tenants, 20 agents, 50,000 people over 90 days, in time order
    (as a log is written)."""
    rng = random.Random(seed)
    people = [pseudonymize(f"+1415{n:07d}", "bench-key") for n in range(50_000)]
    for n in range(count):
        common: dict[str, Any] = {
            "tenant_id": f"tenant-{rng.randrange(10)}",
            "channel": rng.choice((Channel.WHATSAPP, Channel.WHATSAPP, Channel.SMS)),
            "participant": rng.choice(people),
            "occurred_at": END - SPAN + SPAN * ((n + rng.random()) / count),
        }
        roll = rng.random()
        if roll < 0.45:
            yield InboundEvent(**common, text="Hello, can you tell me when my order arrives?")
            continue
        common |= {
            "agent_id": f"agent-{rng.randrange(20)}",
            "confidence": rng.random(),
            "response_time_ms": rng.lognormvariate(7, 0.6),
        }
        if roll < 0.85:
            yield OutboundEvent(**common, text="Your order ships tomorrow morning.")
        elif roll < 0.9:
            yield OutboundFailedEvent(**common, error_code="30003")
        else:
            reason = rng.choice(list(EscalationReason))
            yield EscalatedEvent(**common, approval_id="x", reason=reason, risk_level="low")


def synthetic_approvals(count: int, seed: int) -> list[dict[str, Any]]:
    """Approval rows, one in ten still pending."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        item = Approval(
            tenant_id=f"tenant-{rng.randrange(10)}",
            channel=Channel.WHATSAPP,
            participant=f"p{n}",
            recipient=Address(channel=Channel.WHATSAPP, value="+14155550100"),
            agent_type="support",
            proposed_text="Draft reply",
            risk_level=RiskLevel.MEDIUM,
            reason=EscalationReason.LOW_CONFIDENCE,
            created_at=END - SPAN * rng.random(),
            status="pending" if n % 10 == 0 else "approved",
        )
        rows.append(approval_row(item))
    return rows


def admin_queries() -> dict[str, Query]:
    """The timed queries, each called as ``query(monitoring_reader, approval_store)``."""
    week = StatsQuery(scope=ALL, start=END - timedelta(days=7), end=END)
    month = StatsQuery(scope=ALL, start=END - timedelta(days=30), end=END)
    whole = StatsQuery(scope=ALL)
    tenant = LogQuery(scope=Scope(tenant_ids=frozenset({"tenant-3"})), channel=Channel.SMS)
    return {
        "logs page (all tenants)": lambda r, a: r.logs(LogQuery(scope=ALL)),
        "logs page (tenant + sms)": lambda r, a: r.logs(tenant),
        "stats (last 7 days)": lambda r, a: r.stats(week),
        "stats (30 days)": lambda r, a: r.stats(month),
        "stats (all 90 days)": lambda r, a: r.stats(whole),
        "agent analytics (7 days)": lambda r, a: r.agent_analytics(week),
        "agent analytics (30 days)": lambda r, a: r.agent_analytics(month),
        "agent analytics (all)": lambda r, a: r.agent_analytics(whole),
        "review queue (50)": lambda r, a: a.list_pending(ALL, limit=50),
    }


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    """Median milliseconds of REPEATS calls after one warm-up."""
    await call()
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def sql_peak_kib(stores: SqlStores) -> float:
    """tracemalloc peak (KiB) of running every admin query once."""
    tracemalloc.start()
    for call in admin_queries().values():
        await call(stores.monitoring, stores.approvals)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def rss_mib() -> float:
    """This process's resident memory, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def python_baseline(stores: SqlStores) -> tuple[Any, Any, float, float]:
    """Every event and approval read into Python models: (reader, approvals, seconds, MiB)."""
    before, started = rss_mib(), time.perf_counter()
    memory, queue = InMemoryEventStore(), InMemoryApprovalStore()
    async with stores.engine.connect() as conn:
        result = await conn.stream(sa.select(events).execution_options(yield_per=10_000))
        async for row in result.mappings():
            memory.events.append(event_from_row(row))
        for row in (await conn.execute(sa.select(approvals))).mappings():
            await queue.create(approval_from_row(row))
    seconds = time.perf_counter() - started
    return InMemoryMonitoringReader(memory), queue, seconds, rss_mib() - before


async def measure(label: str, stores: SqlStores, count: int, options: Options) -> None:
    """Time every query in SQL and in the Python baseline, then the SQL memory peak."""
    if options.schema is None:
        await maintain(stores)
    if not options.baseline:
        await sql_only(label, stores, count, options.only)
    else:
        await compare(label, stores, count)
        print(f"SQL queries' tracemalloc peak: {await sql_peak_kib(stores):,.0f} KiB")
    if "stats" in "stats " + options.only:
        await rolled_up(label, stores, count)


def rollup_queries() -> dict[str, StatsQuery]:
    """The stats read from daily rollups: whole days, and a range with partial days at both
    ends (read from the events)."""
    ragged = StatsQuery(
        scope=ALL, start=END - SPAN + timedelta(hours=13), end=END - timedelta(hours=5)
    )
    tenant = Scope(tenant_ids=frozenset({"tenant-3"}))
    return {
        "stats (last 7 days)": StatsQuery(scope=ALL, start=END - timedelta(days=7), end=END),
        "stats (30 days)": StatsQuery(scope=ALL, start=END - timedelta(days=30), end=END),
        "stats (all 90 days)": StatsQuery(scope=ALL),
        "stats (90 days, ragged ends)": ragged,
        "stats (one tenant, 90 days)": StatsQuery(scope=tenant),
    }


async def rolled_up(label: str, stores: SqlStores, count: int) -> None:
    """Roll every day up (timed), then each stats query from the events alone and from the
    rollups, alternately (the rollups switched off and on by their ``walker_rollup_days``
    rows), 3 rounds of the median of REPEATS each."""
    started = time.perf_counter()
    days = await stores.rollups.roll_all()
    spent = time.perf_counter() - started
    print(f"\n[{label}] {count:,} events: rolled up {days} days in {spent:.1f} s")
    async with stores.engine.connect() as conn:
        marks = [dict(row) for row in (await conn.execute(sa.select(rollup_days))).mappings()]
    print(
        f"{'query':<30}{'events ms':>12}{'rollups ms':>12}{'ratio':>8}   users (exact / estimate)"
    )
    for name, query in rollup_queries().items():
        raw: list[float] = []
        rolled: list[float] = []
        for _ in range(3):
            async with stores.engine.begin() as conn:
                await conn.execute(sa.delete(rollup_days))
            raw.append(await timed(partial(stores.monitoring.stats, query)))
            exact = (await stores.monitoring.stats(query)).unique_users
            async with stores.engine.begin() as conn:
                await conn.execute(sa.insert(rollup_days), marks)
            rolled.append(await timed(partial(stores.monitoring.stats, query)))
            estimate = (await stores.monitoring.stats(query)).unique_users
        events_ms, rollups_ms = statistics.median(raw), statistics.median(rolled)
        error = (estimate - exact) / exact * 100 if exact else 0.0
        print(
            f"{name:<30}{events_ms:>12.1f}{rollups_ms:>12.1f}{events_ms / rollups_ms:>7.1f}x"
            f"   {exact:,} / {estimate:,} ({error:+.2f} %)"
        )


async def sql_only(label: str, stores: SqlStores, count: int, only: str) -> None:
    """One line per query whose name contains ``only``: the SQL time alone."""
    print(f"\n[{label}] {count:,} events, SQL only")
    for name, call in admin_queries().items():
        if only in name:
            sql_ms = await timed(partial(call, stores.monitoring, stores.approvals))
            print(f"{name:<27}{sql_ms:>10.1f}")
    if stores.engine.dialect.name == "postgresql":
        print(f"percentiles, all 90 days: {await admin_bulk.percentile_errors(stores)}")


async def maintain(stores: SqlStores) -> None:
    """What autovacuum does after a bulk load: statistics, and (PostgreSQL) the visibility map
    that lets the aggregates use index-only scans."""
    async with stores.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        postgresql = stores.engine.dialect.name == "postgresql"
        await autocommit.execute(sa.text("VACUUM ANALYZE" if postgresql else "ANALYZE"))


async def compare(label: str, stores: SqlStores, count: int) -> None:
    """One line per query: SQL time, baseline time (read + aggregate), and their ratio."""
    reader, queue, load_s, held_mib = await python_baseline(stores)
    print(f"\n[{label}] {count:,} events; the baseline read them in {load_s:.1f} s")
    print(f"[{label}] the baseline holds {held_mib:,.0f} MiB (RSS growth)")
    print(f"{'query':<27}{'SQL ms':>10}{'Python ms':>12}{'(agg only)':>12}{'ratio':>9}")
    for name, call in admin_queries().items():
        sql_ms = await timed(partial(call, stores.monitoring, stores.approvals))
        agg_ms = await timed(partial(call, reader, queue))
        python_ms = load_s * 1000 + agg_ms
        ratio = python_ms / sql_ms
        print(f"{name:<27}{sql_ms:>10.1f}{python_ms:>12.0f}{agg_ms:>12.0f}{ratio:>8.0f}x")


async def load_models(stores: SqlStores, count: int, seed: int) -> float:
    """Bulk insert ``count`` events; returns rows per second of ``append_many`` alone
    (building the synthetic models is not timed)."""
    generated = synthetic_events(count, seed)
    spent = 0.0
    while chunk := list(itertools.islice(generated, 50_000)):
        started = time.perf_counter()
        await stores.events.append_many(chunk)
        spent += time.perf_counter() - started
    return count / spent


async def run_backend(label: str, stores: SqlStores, total: int, options: Options) -> None:
    """Load N/10, measure, load the rest, measure again (with ``--schema``: measure only)."""
    if options.schema is not None:
        await measure(label, stores, total, options)
        return
    await stores.create_all()
    async with stores.engine.begin() as conn:
        await conn.execute(approvals.insert(), synthetic_approvals(APPROVALS, seed=7))
    first = max(total // 10, 1)
    rate = await load(stores, 0, first, seed=1, options=options, total=total)
    print(f"\n[{label}] bulk load: {rate:,.0f} events/s ({first:,} events)")
    await measure(label, stores, first, options)
    if total > first:
        rate = await load(stores, first, total, seed=2, options=options, total=total)
        print(f"\n[{label}] bulk load: {rate:,.0f} events/s ({total - first:,} more events)")
        await measure(label, stores, total, options)


async def load(
    stores: SqlStores, first: int, last: int, seed: int, options: Options, total: int
) -> float:
    """Insert events ``first`` to ``last - 1``; rows per second of the load alone."""
    if options.bulk_sql and stores.engine.dialect.name == "postgresql":
        span = {"start": END - SPAN, "span": SPAN, "total": total}
        rate: float = await admin_bulk.load_postgresql(stores, first, last, seed, span)
        return rate
    return await load_models(stores, last - first, seed)


class Options:
    """Command-line options (see ``--help``)."""

    def __init__(self, argv: list[str]) -> None:
        parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
        default = int(os.environ.get("WALKER_BENCH_EVENTS", "1000000"))
        parser.add_argument("events", nargs="?", type=int, default=default)
        parser.add_argument("--backend", choices=("all", "sqlite", "postgresql"), default="all")
        parser.add_argument("--bulk-sql", action="store_true", help="PostgreSQL: INSERT..SELECT")
        parser.add_argument("--only", default="", help="time only queries whose name has this")
        parser.add_argument("--no-baseline", action="store_true", help="skip the Python baseline")
        parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
        parser.add_argument("--schema", help="measure an existing (kept) PostgreSQL schema")
        args = parser.parse_args(argv)
        self.events: int = args.events
        self.backend: str = args.backend
        self.bulk_sql: bool = args.bulk_sql
        self.only: str = args.only
        self.baseline: bool = not args.no_baseline
        self.keep: bool = args.keep
        self.schema: str | None = args.schema


async def main(options: Options) -> None:
    """Run on SQLite, then on PostgreSQL when a URL is configured."""
    total = options.events
    print(f"admin queries: {total:,} events, percentiles {PERCENTILES}, median of {REPEATS}")
    if options.backend in ("all", "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            stores = SqlStores.from_url(f"sqlite:///{Path(folder) / 'bench.db'}")
            try:
                await run_backend("sqlite", stores, total, options)
            finally:
                await stores.dispose()
    url = os.environ.get("WALKER_BENCH_POSTGRES_URL") or os.environ.get("WALKER_TEST_POSTGRES_URL")
    if options.backend == "sqlite":
        return
    if not url:
        print("\n[postgresql] skipped: set WALKER_BENCH_POSTGRES_URL")
        return
    if options.schema is not None or options.keep:
        schema = options.schema or f"walker_bench_{uuid4().hex[:12]}"
        if options.schema is None:
            await create_schema(url, schema)
            print(f"[postgresql] schema {schema} (kept: drop it when done)")
        await run_postgresql(url, schema, total, options)
        return
    async with temporary_schema(url, prefix="walker_bench") as schema:
        await run_postgresql(url, schema, total, options)


async def run_postgresql(url: str, schema: str, total: int, options: Options) -> None:
    """The PostgreSQL run in ``schema``."""
    stores = SqlStores.from_url(url, schema=schema)
    try:
        await run_backend("postgresql", stores, total, options)
    finally:
        await stores.dispose()


if __name__ == "__main__":
    asyncio.run(main(Options(sys.argv[1:])))
