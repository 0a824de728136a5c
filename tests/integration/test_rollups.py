"""Daily rollups of the admin stats (``sql.rollups``) on SQLite and PostgreSQL, migrated.

The oracle is the same reader before anything is rolled: every figure over every range must
be what the events alone give, and stay so when events are written into, or erased from,
days already rolled (the triggers of ``sql.triggers``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from walker_channels.cli import main
from walker_channels.models import (
    Channel,
    ConversationEvent,
    ConversationStats,
    ErasureRequest,
    HandoffStartedEvent,
    InboundEvent,
    OptedOutEvent,
    Scope,
    StatsQuery,
)
from walker_channels.models.consent import ConsentSource
from walker_channels.sql import SqlStores
from walker_channels.sql.rollups import SETTLE
from walker_channels.sql.tables import day_figures, events, rollup_days
from walker_channels.testing.contracts import agent_outcome

pytestmark = pytest.mark.anyio

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)
"""A Monday; the events span DAY0 to DAY0 + 3 days."""
NOW = DAY0 + timedelta(days=5)
ALL = Scope(tenant_ids=None)


@pytest.fixture
async def stores(fresh_database: tuple[str, str | None]) -> AsyncIterator[SqlStores]:
    url, schema = fresh_database
    async with SqlStores.from_url(url, schema=schema) as sql:
        await sql.upgrade()
        yield sql


def _traffic(day0: datetime = DAY0) -> list[ConversationEvent]:
    """Four days from ``day0`` of two tenants on two channels: messages, outcomes of three
    kinds, handoffs, opt-outs and messages to nobody's number, at every hour."""
    found: list[ConversationEvent] = []
    kinds = ("sent", "failed", "escalated")
    for i in range(4 * 24 * 3):
        at = day0 + timedelta(minutes=20 * i + 7)
        tenant, channel = ("t1", "t2")[i % 2], (Channel.WHATSAPP, Channel.SMS)[i // 2 % 2]
        who = f"p{i % 37}"
        found.append(
            InboundEvent(
                tenant_id=tenant if i % 29 else None,
                channel=channel,
                participant=who,
                occurred_at=at,
                text="hi",
                sentiment=((i % 9) - 4) / 4 if i % 3 else None,
            )
        )
        outcome = agent_outcome(
            kinds[i % 3],
            agent=f"agent-{i % 4}",
            at=at + timedelta(seconds=3),
            response_ms=None if i % 11 == 0 else float(100 + (i * 37) % 900),
            confidence=None if i % 13 == 0 else (i % 10) / 10,
            tenant=tenant,
            who=who,
            channel=channel,
        )
        found.append(outcome)
        common = {"tenant_id": tenant, "channel": channel, "participant": who}
        if i % 17 == 0:
            found.append(
                HandoffStartedEvent(
                    **common,
                    occurred_at=at + timedelta(seconds=5),
                    agent_id=f"agent-{i % 4}",
                    conversation_id=f"c{i}",
                    by="reviewer",
                    reason="takeover",
                )
            )
        if i % 23 == 0:
            at_six = at + timedelta(seconds=6)
            found.append(OptedOutEvent(**common, occurred_at=at_six, source=ConsentSource.KEYWORD))
    return found


def _queries() -> list[StatsQuery]:
    """Whole history, whole days, partial days at either end, one tenant, one channel."""
    mid = DAY0 + timedelta(days=1, hours=13, minutes=5)
    return [
        StatsQuery(scope=ALL),
        StatsQuery(scope=ALL, start=DAY0, end=DAY0 + timedelta(days=2)),
        StatsQuery(scope=ALL, start=mid, end=DAY0 + timedelta(days=3, hours=2)),
        StatsQuery(scope=ALL, start=DAY0 + timedelta(hours=5)),
        StatsQuery(scope=ALL, end=mid),
        StatsQuery(scope=Scope(tenant_ids=frozenset({"t2"})), start=DAY0 - timedelta(days=3)),
        StatsQuery(scope=ALL, channel=Channel.SMS, end=NOW),
        StatsQuery(scope=Scope(tenant_ids=frozenset()), channel=Channel.WHATSAPP),
    ]


async def _stats(stores: SqlStores) -> list[ConversationStats]:
    return [await stores.monitoring.stats(query) for query in _queries()]


async def _rolled_days(stores: SqlStores) -> list[object]:
    async with stores.engine.connect() as conn:
        return list((await conn.execute(sa.select(rollup_days.c.day))).scalars())


async def test_every_figure_of_every_range_is_what_the_events_alone_give(
    stores: SqlStores,
) -> None:
    await stores.events.append_many(_traffic())
    expected = await _stats(stores)
    assert await stores.rollups.roll_all(now=NOW) == 4  # DAY0 .. DAY0 + 3 days
    async with stores.engine.connect() as conn:
        rows = (await conn.execute(sa.select(sa.func.count()).select_from(day_figures))).scalar()
    assert rows  # the figures are there to read
    assert await _stats(stores) == expected
    assert await stores.rollups.roll_all(now=NOW) == 0  # nothing left to roll


async def test_the_stats_read_the_rollups_not_the_events_of_rolled_days(
    stores: SqlStores,
) -> None:
    await stores.events.append_many(_traffic())
    tenants = Scope(tenant_ids=frozenset({"t1", "t2"}))  # no count of nobody's number
    whole = StatsQuery(scope=tenants, start=DAY0, end=DAY0 + timedelta(days=1))
    expected = await stores.monitoring.stats(whole)
    await stores.rollups.roll_all(now=NOW)
    # Behind the triggers' back (as no writer can be): the day's figures stay those rolled.
    async with stores.engine.begin() as conn:
        await conn.execute(sa.text("DROP TRIGGER walker_events_forget_deleted" + _on(stores)))
        await conn.execute(sa.delete(events).where(events.c.occurred_at < DAY0 + timedelta(1)))
    assert await stores.monitoring.stats(whole) == expected


def _on(stores: SqlStores) -> str:
    return " ON walker_events" if stores.engine.dialect.name == "postgresql" else ""


async def test_a_late_event_in_a_rolled_day_counts_at_once_and_is_rolled_again(
    stores: SqlStores,
) -> None:
    await stores.events.append_many(_traffic())
    await stores.rollups.roll_all(now=NOW)
    late = InboundEvent(
        tenant_id="t1",
        channel=Channel.SMS,
        participant="someone-new",
        occurred_at=DAY0 + timedelta(days=1, hours=12),
        text="sorry, the network was down",
    )
    before = await stores.monitoring.stats(StatsQuery(scope=ALL))
    await stores.events.append(late)
    after = await stores.monitoring.stats(StatsQuery(scope=ALL))
    assert after.inbound_total == before.inbound_total + 1
    assert after.unique_users == before.unique_users + 1
    assert DAY0.date() + timedelta(days=1) not in await _rolled_days(stores)
    assert await stores.rollups.roll_all(now=NOW) == 1
    assert await stores.monitoring.stats(StatsQuery(scope=ALL)) == after


async def test_an_erasure_takes_the_person_out_of_rolled_days(stores: SqlStores) -> None:
    await stores.events.append_many(_traffic())
    await stores.rollups.roll_all(now=NOW)
    theirs = StatsQuery(scope=Scope(tenant_ids=frozenset({"t1"})))
    before = await stores.monitoring.stats(theirs)
    erasure = ErasureRequest(
        tenant_id="t1", participant="p2", address="+15550100", requested_by="dpo", at=NOW
    )
    removed = (await stores.privacy.erase(erasure)).removed["events"]
    assert removed > 0
    after = await stores.monitoring.stats(theirs)
    assert after.unique_users == before.unique_users - 1
    assert after.inbound_total < before.inbound_total
    assert await stores.rollups.roll_all(now=NOW) > 0
    assert await stores.monitoring.stats(theirs) == after


async def test_two_processes_rolling_at_once_roll_each_day_once(
    stores: SqlStores, fresh_database: tuple[str, str | None]
) -> None:
    await stores.events.append_many(_traffic())
    expected = await _stats(stores)
    url, schema = fresh_database
    async with SqlStores.from_url(url, schema=schema) as other:
        rolled = await asyncio.gather(
            stores.rollups.roll_all(now=NOW), other.rollups.roll_all(now=NOW)
        )
    assert sum(rolled) == 4
    assert await _stats(stores) == expected


async def test_today_and_a_day_just_over_are_not_rolled(stores: SqlStores) -> None:
    await stores.events.append_many(_traffic())
    just_over = DAY0 + timedelta(days=3, minutes=30)  # DAY0 + 2 ended 30 minutes ago
    assert await stores.rollups.roll_all(now=just_over) == 2
    assert await _rolled_days(stores) == [DAY0.date(), DAY0.date() + timedelta(days=1)]


async def test_no_events_no_rollups(stores: SqlStores) -> None:
    assert await stores.rollups.roll_all(now=NOW) == 0
    with pytest.raises(ValueError, match="limit"):
        await stores.rollups.roll(limit=0)


async def test_many_people_over_rolled_days_are_counted_within_the_sketch_error(
    stores: SqlStores,
) -> None:
    people = [
        InboundEvent(
            tenant_id="t1",
            channel=Channel.WHATSAPP,
            participant=f"person-{n}",
            occurred_at=DAY0 + timedelta(seconds=17 * n),  # about two days
            text="hi",
        )
        for n in range(9_000)
    ]
    await stores.events.append_many(people)
    exact = (await stores.monitoring.stats(StatsQuery(scope=ALL))).unique_users
    assert exact == 9_000
    await stores.rollups.roll_all(now=NOW)
    estimate = (await stores.monitoring.stats(StatsQuery(scope=ALL))).unique_users
    assert abs(estimate - exact) / exact < 0.015  # over 3 standard errors of 2^16 registers


async def test_a_roll_waits_for_a_writer_in_flight_and_counts_its_event(
    stores: SqlStores,
) -> None:
    await stores.events.append_many(_traffic())
    late = {
        "id": "late-1",
        "tenant_id": "t1",
        "channel": "sms",
        "type": "inbound",
        "direction": "inbound",
        "occurred_at": DAY0 + timedelta(hours=3),
        "participant": "late-person",
        "is_error": False,
        "data": {"text": "x"},
    }
    async with stores.engine.connect() as writer:
        await writer.begin()
        await writer.execute(sa.insert(events).values(late))
        rolling = asyncio.create_task(stores.rollups.roll_all(now=NOW))
        await asyncio.sleep(0.3)
        assert not rolling.done()  # held back by the open write
        await writer.commit()
    assert await rolling == 4
    stats = await stores.monitoring.stats(StatsQuery(scope=ALL))
    raw = await stores.monitoring.stats(StatsQuery(scope=ALL, start=DAY0 - timedelta(hours=1)))
    assert stats == raw  # the second range starts mid-day: all of it from the events


def test_the_command_rolls_up_the_closed_days(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    async def load() -> None:
        async with SqlStores.from_url(url) as sql:
            await sql.upgrade()
            await sql.events.append_many(_traffic(today - timedelta(days=10)))

    asyncio.run(load())
    assert main(["db", "rollup", "--url", url]) == 0
    assert main(["db", "rollup", "--url", url]) == 0
    closed = 10 if datetime.now(UTC) - today >= SETTLE else 9  # yesterday, once settled
    assert capsys.readouterr().out.splitlines() == [f"rolled up {closed} days", "rolled up 0 days"]
