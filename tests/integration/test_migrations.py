"""The shipped migrations build exactly the models' schema and tear it down again, on both
databases, and ``walker-channels db upgrade`` runs them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from walker_channels.cli import main
from walker_channels.metrics import event_hitl, is_agent_outcome
from walker_channels.models import (
    Channel,
    ConversationEvent,
    InboundEvent,
    OutboundEvent,
    OutboundFailedEvent,
)
from walker_channels.sql import (
    Database,
    create_engine,
    current_revision,
    downgrade,
    metadata,
    upgrade,
)
from walker_channels.sql.events import event_row
from walker_channels.sql.migrate import VERSION_TABLE, alembic_config
from walker_channels.sql.tables import events, tenant_numbers
from walker_channels.testing.contracts import T0, agent_outcome, inbound

pytestmark = pytest.mark.anyio
WALKER_TABLES = {table.name for table in metadata.sorted_tables}
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture
def pg_schema(fresh_pg_schema: str) -> str:
    """Migrations start from nothing: a new empty schema for every test."""
    return fresh_pg_schema


@pytest.fixture
async def engine(database: tuple[str, str | None]) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database."""
    url, schema = database
    engine = create_engine(url, schema=schema)
    yield engine
    await engine.dispose()


def _differences(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def test_upgrade_builds_the_schema_the_models_describe(engine: AsyncEngine) -> None:
    await upgrade(engine)
    assert await current_revision(engine) == HEAD
    async with engine.connect() as conn:
        assert await conn.run_sync(_tables) >= WALKER_TABLES
        assert await conn.run_sync(_differences) == []


async def test_downgrade_to_base_removes_every_table_and_upgrade_works_again(
    engine: AsyncEngine,
) -> None:
    await upgrade(engine)
    await downgrade(engine, "base")
    assert await current_revision(engine) is None
    async with engine.connect() as conn:
        assert not WALKER_TABLES & await conn.run_sync(_tables)
    await upgrade(engine)
    assert await current_revision(engine) == HEAD


async def test_an_unmigrated_database_differs_from_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        differences = await conn.run_sync(_differences)
    assert {diff[1].name for diff in differences if diff[0] == "add_table"} == WALKER_TABLES


def _sends() -> dict[str, ConversationEvent]:
    """One event of every kind whose ``hitl`` changed meaning in 0002, by what it is."""
    common: dict[str, Any] = {
        "tenant_id": "t1",
        "channel": Channel.SMS,
        "participant": "p1",
        "occurred_at": T0,
    }
    return {
        "reply": OutboundEvent(**common, data={"purpose": "reply"}),
        "failed reply": OutboundFailedEvent(**common, data={"purpose": "reply"}),
        "by hand": OutboundEvent(**common),
        "holding": OutboundEvent(**common, data={"purpose": "holding"}),
        "approved": OutboundEvent(**common, data={"purpose": "approved"}, hitl=True),
        "failed proactive": OutboundFailedEvent(**common, data={"purpose": "proactive"}),
        "escalated": agent_outcome("escalated", agent="a", at=T0),
        "inbound": InboundEvent(**common),
    }


async def _hitl_by_name(engine: AsyncEngine, names: dict[str, str]) -> dict[str, bool | None]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(events.c.id, events.c.hitl))).all()
    return {names[row.id]: row.hitl for row in rows}


def _row_at_0001(event: ConversationEvent) -> dict[str, Any]:
    """The row of ``event`` without the columns later revisions added (0011: ``sentiment``)."""
    return {key: value for key, value in event_row(event).items() if key != "sentiment"}


async def test_0002_keeps_hitl_for_agent_outcomes_only_and_its_downgrade_restores_it(
    engine: AsyncEngine,
) -> None:
    sends = _sends()
    names = {event.id: name for name, event in sends.items()}
    # Rows as revision 0001 wrote them: a send's hitl was its own flag.
    before = {name: getattr(e, "hitl", None) for name, e in sends.items()}
    before["escalated"] = True
    await upgrade(engine, "0001")
    async with engine.begin() as conn:
        rows = [{**_row_at_0001(e), "hitl": before[name]} for name, e in sends.items()]
        await conn.execute(sa.insert(events), rows)
    await upgrade(engine)
    assert await _hitl_by_name(engine, names) == {
        name: event_hitl(event) for name, event in sends.items()
    }
    assert [name for name, e in sends.items() if is_agent_outcome(e)] == [
        "reply",
        "failed reply",
        "by hand",
        "escalated",
    ]
    await downgrade(engine, "0001")
    assert await _hitl_by_name(engine, names) == before


def test_the_command_upgrades_and_downgrades_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    assert main(["db", "current", "--url", url]) == 0
    assert main(["db", "downgrade", "--url", url, "--revision", "base"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"database at revision {HEAD}",
        f"database at revision {HEAD}",
        "database at revision base (empty)",
    ]


def test_the_command_explains_an_unusable_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--url", "mysql://db.invalid/walker"]) == 2
    assert "async driver" in capsys.readouterr().err


async def test_upgrading_sqlite_gives_the_planner_statistics_for_the_session_lookup(
    tmp_path: Path,
) -> None:
    """With statistics a person's latest session is found by their own index, not by walking
    every event of the tenant (without them SQLite picks the tenant's time index)."""
    db = Database(create_engine(f"sqlite:///{tmp_path / 'walker.db'}"))
    people = [
        inbound(f"k{n}", who=f"p{n % 10}", at=T0 + timedelta(seconds=n)).replace(session_id="s")
        for n in range(50)
    ]
    try:
        await upgrade(db)
        rows = [event_row(event) for event in people]
        await db.run(lambda conn: conn.execute(sa.insert(events), rows), write=True)
        await upgrade(db)
        plan = await db.run(lambda conn: conn.exec_driver_sql(_SESSION_PLAN).all())
    finally:
        await db.dispose()
    assert plan[0][-1].endswith("(tenant_id=? AND channel=? AND participant=?)")


_SESSION_PLAN = (
    "EXPLAIN QUERY PLAN SELECT session_id, occurred_at FROM walker_events"
    " WHERE tenant_id = 't1' AND channel = 'whatsapp' AND participant = 'someone new'"
    " AND session_id IS NOT NULL ORDER BY occurred_at DESC, id DESC LIMIT 1"
)


async def _tenant_numbers(engine: AsyncEngine) -> set[tuple[str, ...]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(tenant_numbers))).mappings().all()
    return {tuple(row[name] for name in sorted(row.keys())) for row in rows}


async def test_0007_keeps_every_stored_number_on_sms_and_whatsapp_and_its_downgrade_undoes_it(
    engine: AsyncEngine,
) -> None:
    await upgrade(engine, "0006")
    old = sa.table(
        "walker_tenant_numbers",
        sa.column("address"),
        sa.column("tenant_id"),
        sa.column("user_id"),
    )
    before = [
        {"address": "+14155550100", "tenant_id": "t1", "user_id": "u1"},
        {"address": "ops@example.com", "tenant_id": "t2", "user_id": None},
    ]
    async with engine.begin() as conn:
        await conn.execute(sa.insert(old), before)
    await upgrade(engine)
    # Columns in name order: address, channel, tenant_id, user_id.
    assert await _tenant_numbers(engine) == {
        ("+14155550100", "sms", "t1", "u1"),
        ("+14155550100", "whatsapp", "t1", "u1"),
        ("ops@example.com", "email", "t2", None),
    }
    await downgrade(engine, "0006")
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(old))).mappings().all()
    assert sorted(map(dict, rows), key=lambda row: row["address"]) == before
