"""Atomicity under real concurrency: many writers, each on its own engine and connection,
against one SQLite file or one PostgreSQL schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from walker_channels.exceptions import AlreadyDecided
from walker_channels.models import ApprovalStatus, Channel, Decision
from walker_channels.sql import SqlStores
from walker_channels.sql.tables import events
from walker_channels.testing.contracts import DAY, T0, approval, brief_schedule, inbound, queued

pytestmark = pytest.mark.anyio


@pytest.fixture
async def writers(database: tuple[str, str | None]) -> AsyncIterator[list[SqlStores]]:
    """Twenty independent store sets (one engine each) on fresh tables, connections warm."""
    url, schema = database
    first = SqlStores.from_url(url, schema=schema)
    await first.drop_all()
    await first.create_all()
    others = [SqlStores.from_url(url, schema=schema) for _ in range(19)]
    stores = [first, *others]
    await asyncio.gather(*(s.events.last_inbound_at("t1", Channel.WHATSAPP, "p1") for s in stores))
    yield stores
    await asyncio.gather(*(s.dispose() for s in stores))


async def test_twenty_concurrent_inserts_of_one_key_leave_one_row(
    writers: list[SqlStores],
) -> None:
    results = await asyncio.gather(*(s.events.append(inbound("SM-dup")) for s in writers))
    assert results.count(True) == 1
    async with writers[0].engine.connect() as conn:
        rows = await conn.scalar(sa.select(sa.func.count()).select_from(events))
    assert rows == 1


async def test_ten_concurrent_decisions_leave_one_winner(writers: list[SqlStores]) -> None:
    pending = approval()
    await writers[0].approvals.create(pending)

    async def decide(stores: SqlStores, reviewer: str) -> str | None:
        decision = Decision(status=ApprovalStatus.APPROVED, decided_by=reviewer, decided_at=T0)
        try:
            await stores.approvals.decide(pending.id, decision)
        except AlreadyDecided:
            return None
        return reviewer

    outcomes = await asyncio.gather(*(decide(s, f"r{n}") for n, s in enumerate(writers[:10])))
    winners = [who for who in outcomes if who is not None]
    assert len(winners) == 1
    stored = await writers[0].approvals.get(pending.id)
    assert stored is not None
    assert stored.decided_by == winners[0]


async def test_concurrent_claimers_on_separate_connections_never_share_an_entry(
    writers: list[SqlStores],
) -> None:
    for n in range(30):
        await writers[0].inbox.enqueue(queued(f"SM{n:02}", at=T0 + timedelta(seconds=n)))
    batches = await asyncio.gather(
        *(s.inbox.claim(now=T0, lease=timedelta(minutes=1), limit=3) for s in writers)
    )
    ids = [item.id for batch in batches for item in batch]
    assert sorted(ids) == [f"SM{n:02}" for n in range(30)]


async def test_concurrent_claimers_never_hold_two_entries_of_one_conversation(
    writers: list[SqlStores],
) -> None:
    for n in range(30):
        at = T0 + timedelta(seconds=n)
        await writers[0].inbox.enqueue(queued(f"SM{n:02}", at=at, conversation=f"c{n % 5}"))
    batches = await asyncio.gather(
        *(s.inbox.claim(now=T0, lease=timedelta(minutes=1), limit=3) for s in writers)
    )
    ids = sorted(item.id for batch in batches for item in batch)
    assert ids == [f"SM{n:02}" for n in range(5)]


async def test_twenty_takeovers_of_an_expired_brief_run_leave_one_winner(
    writers: list[SqlStores],
) -> None:
    schedule, lease = brief_schedule(), timedelta(minutes=15)
    await writers[0].schedules.save(schedule)
    await writers[0].schedules.claim_run(schedule.id, DAY, at=T0, lease=lease)  # then it died

    later = T0 + 2 * lease
    claims = await asyncio.gather(
        *(s.schedules.claim_run(schedule.id, DAY, at=later, lease=lease) for s in writers)
    )

    assert claims.count(True) == 1
