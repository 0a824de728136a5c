"""The cost of claiming queued messages one conversation at a time, against a plain claim.

``SqlInboundQueue.claim`` takes only the oldest entry of each conversation (``NOT EXISTS`` an
older entry of it). The baseline is the claim without that rule (oldest entries first, any
conversation), measured in the same run, interleaved, on the same table: 1,000 and 10,000
queued messages spread over conversations of ten, on SQLite and (with
``WALKER_BENCH_POSTGRES_URL``) PostgreSQL. The figure is the median of three rounds of 200
claims of ten; each claim is a read of the candidates (no lease written), so the table stays
the same between rounds.

Run: ``python benchmarks/bench_inbound_claim.py`` (or ``nox -s bench -- bench_inbound_claim``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from walker_channels.sql import SqlStores
from walker_channels.sql.inbox import HEAD, free
from walker_channels.sql.tables import inbound_queue
from walker_channels.testing.contracts import T0, queued

SIZES = (1_000, 10_000)
CLAIMS, ROUNDS, BATCH = 200, 3, 10
_q = inbound_queue.c


async def bench(url: str, schema: str | None, size: int) -> tuple[float, float]:
    """Median microseconds per claim: (plain, one conversation at a time)."""
    stores = SqlStores.from_url(url, schema=schema)
    await stores.drop_all()
    await stores.create_all()
    for n in range(size):
        at = T0 + timedelta(milliseconds=n)
        await stores.inbox.enqueue(queued(f"SM{n:06}", at=at, conversation=f"c{n % (size // 10)}"))

    def reader(*conditions: sa.ColumnElement[bool]) -> Callable[[], Awaitable[object]]:
        ids = sa.select(_q.id).where(free(T0), *conditions).order_by(_q.enqueued_at, _q.id)
        stmt = sa.select(inbound_queue).where(_q.id.in_(ids.limit(BATCH)))

        async def claim() -> None:
            async with stores.engine.connect() as conn:
                (await conn.execute(stmt)).all()

        return claim

    cases = {"plain": reader(), "ordered": reader(HEAD)}
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, claim in cases.items():
            started = time.perf_counter()
            for _ in range(CLAIMS):
                await claim()
            timings[name].append((time.perf_counter() - started) / CLAIMS * 1e6)
    await stores.drop_all()
    await stores.dispose()
    return statistics.median(timings["plain"]), statistics.median(timings["ordered"])


def main() -> None:
    """Print one line per database and queue size."""
    with tempfile.TemporaryDirectory() as scratch:
        targets = [("SQLite", f"sqlite+aiosqlite:///{Path(scratch) / 'claim.db'}", None)]
        if url := os.environ.get("WALKER_BENCH_POSTGRES_URL"):
            targets.append(("PostgreSQL", url, os.environ.get("WALKER_BENCH_POSTGRES_SCHEMA")))
        print("| database | queued | plain claim (µs) | one conversation at a time (µs) | ratio |")
        print("|---|---:|---:|---:|---:|")
        for name, url, schema in targets:
            for size in SIZES:
                plain, ordered = asyncio.run(bench(url, schema, size))
                print(
                    f"| {name} | {size:,} | {plain:,.0f} | {ordered:,.0f} | {ordered / plain:.2f} |"
                )


if __name__ == "__main__":
    main()
