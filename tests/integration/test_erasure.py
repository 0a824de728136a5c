"""``walker-channels erase`` removes one person's data from every table, on SQLite and PostgreSQL.

A person talks to the services for real (a reply sent, a draft escalated, a message still
queued, a session, their number owned by the tenant as a user's); another person talks too.
The command runs as a user runs it, in a subprocess; then every row of every table is read and
none may hold the number, the person's texts, their session, or their pseudonym (except the
erasure record, which is where the pseudonym belongs).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from db_urls import url_with_schema
from walker_channels.app import Services, Settings, build_services
from walker_channels.models import AgentReply, AgentRequest, Channel, Scope, StatsQuery
from walker_channels.services import ProcessOutcome
from walker_channels.sql import SqlStores, metadata
from walker_channels.testing import FixedClock, RecordingTransport, ScriptedAgent
from walker_channels.twilio import parse_inbound_form

pytestmark = pytest.mark.anyio

KEY = "pseudonym-key-for-erasure-tests"
TENANT, TENANT_NUMBER = "tenant-a", "+14155550100"
ADA, BOB = "+14155552671", "+14155550199"
ADA_TEXTS = ("my name is Ada Lovelace", "I want a refund for order 1234", "are you there, Ada?")
ADA_REPLY = "Hello Ada Lovelace, how can I help?"
BOB_TEXT = "hello from Bob Babbage"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_sids = iter(range(1, 1000))


@pytest.fixture(scope="module")
def pg_schema(pg_schema: str, postgres_url: str) -> str:
    """The module's schema, with the tables created once."""

    async def create_tables() -> None:
        async with SqlStores.from_url(postgres_url, schema=pg_schema) as stores:
            await stores.create_all()

    asyncio.run(create_tables())
    return pg_schema


@pytest.fixture
def url(database: tuple[str, str | None]) -> str:
    """The database URL as a user would pass it (PostgreSQL: the test schema in the URL)."""
    base, schema = database
    return base if schema is None else url_with_schema(base, schema)


@pytest.fixture
async def stores(database: tuple[str, str | None]) -> AsyncIterator[SqlStores]:
    base, schema = database
    sql = SqlStores.from_url(base, schema=schema)
    if schema is None:
        await sql.create_all()
    else:
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        async with sql.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables}"))
    yield sql
    await sql.dispose()


def _agent(request: AgentRequest) -> AgentReply:
    unsure = "refund" in request.text
    reply = ADA_REPLY if "Ada" in request.text else "Hello Bob"
    return AgentReply(text=reply, confidence=0.2 if unsure else 0.9, agent_id="support")


@dataclass
class World:
    services: Services
    stores: SqlStores
    clock: FixedClock

    async def says(self, sender: str, body: str) -> str:
        """A signed-webhook-shaped message from ``sender``, accepted; returns its id."""
        sid = f"SM{next(_sids):032x}"
        form = {
            "MessageSid": sid,
            "From": f"whatsapp:{sender}",
            "To": f"whatsapp:{TENANT_NUMBER}",
            "Body": body,
            "ProfileName": "Ada" if sender == ADA else "Bob",
            "WaId": sender.removeprefix("+"),
        }
        self.clock.advance(timedelta(minutes=1))
        message = parse_inbound_form(form, received_at=self.clock.now())
        await self.services.conversations.accept(message)
        return sid

    async def answered(self, sender: str, body: str) -> ProcessOutcome:
        sid = await self.says(sender, body)
        return await self.services.conversations.process(sid)


@pytest.fixture
async def world(stores: SqlStores) -> AsyncIterator[World]:
    clock = FixedClock(T0)
    services = build_services(
        Settings(walker_pseudonym_key=KEY, walker_sweep_interval=0, walker_migrate_on_start=False),
        clock=clock,
        stores=stores,
        agent=ScriptedAgent(default=_agent),
        whatsapp_transport=RecordingTransport(),
    )
    await services.start()
    await stores.tenants.add_number(TENANT, f"whatsapp:{TENANT_NUMBER}")
    await stores.tenants.add_number(TENANT, f"whatsapp:{ADA}", user_id="ada")
    yield World(services, stores, clock)
    await services.close()


async def _talk(world: World) -> None:
    """Ada: a reply, a draft waiting for review, a message still queued. Bob: a reply."""
    assert await world.answered(ADA, ADA_TEXTS[0]) is ProcessOutcome.REPLIED
    assert await world.answered(ADA, ADA_TEXTS[1]) is ProcessOutcome.ESCALATED
    await world.says(ADA, ADA_TEXTS[2])
    assert await world.answered(BOB, BOB_TEXT) is ProcessOutcome.REPLIED


async def _dump(stores: SqlStores) -> dict[str, list[str]]:
    """Every row of every walker table, as JSON text."""
    tables: dict[str, list[str]] = {}
    async with stores.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(sa.select(table))).mappings().all()
            tables[table.name] = [json.dumps(dict(row), default=str) for row in rows]
    return tables


def _holding(tables: dict[str, list[str]], *needles: str) -> dict[str, list[str]]:
    return {
        name: [needle for needle in needles if any(needle in row for row in rows)]
        for name, rows in tables.items()
        if any(needle in row for row in rows for needle in needles)
    }


def _secrets(world: World, ada_sessions: set[str]) -> tuple[str, ...]:
    return (
        ADA,
        ADA.removeprefix("+"),
        *ADA_TEXTS,
        ADA_REPLY,
        *ada_sessions,
        world.services.config.pseudonym(ADA),
    )


async def _sessions_of(stores: SqlStores, participant: str) -> set[str]:
    events = metadata.tables["walker_events"]
    async with stores.engine.connect() as conn:
        found = await conn.execute(
            sa.select(events.c.session_id).where(events.c.participant == participant)
        )
        return {s for (s,) in found if s}


def run_cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """``walker-channels ARGS`` as a user runs it, with the server's settings in the environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WALKER_", "TWILIO_"))}
    environ |= {"WALKER_DATABASE_URL": url, "WALKER_PSEUDONYM_KEY": KEY}
    script = Path(sys.executable).with_name("walker-channels")
    return subprocess.run(  # noqa: S603 - the project's own command
        [str(script), *args], env=environ, capture_output=True, text=True, timeout=60, check=False
    )


async def test_after_erase_no_table_holds_the_number_the_texts_or_the_session(
    world: World, url: str
) -> None:
    await _talk(world)
    ada = world.services.config.pseudonym(ADA)
    sessions = await _sessions_of(world.stores, ada)
    secrets = _secrets(world, sessions)
    assert sessions
    assert set(_holding(await _dump(world.stores), *secrets)) >= {
        "walker_events",
        "walker_approvals",
        "walker_outbound",
        "walker_inbound_queue",
        "walker_tenant_numbers",
        "walker_conversations",
    }
    bob_before = _holding(await _dump(world.stores), BOB, BOB_TEXT)

    done = await asyncio.to_thread(
        run_cli, "erase", "--participant", ADA, "--tenant", TENANT, "--by", "dpo", url=url
    )

    assert done.returncode == 0, done.stderr
    assert ADA not in done.stdout + done.stderr
    assert f"erased participant {ada} of tenant {TENANT}" in done.stdout
    tables = await _dump(world.stores)
    left = _holding(tables, *secrets)
    assert left == {"walker_erasures": [ada]}, left
    assert _holding(tables, BOB, BOB_TEXT) == bob_before
    [record] = await world.stores.privacy.erasures(TENANT)
    assert (record.participant, record.requested_by) == (ada, "dpo")
    assert record.removed["events"] >= 5
    assert record.removed["inbound_queue"] == 1


async def test_bob_is_still_answered_and_counted_after_ada_is_erased(world: World) -> None:
    await _talk(world)

    await world.services.privacy.erase(ADA, tenant_id=TENANT, requested_by="dpo")

    assert await world.answered(BOB, "hello again") is ProcessOutcome.REPLIED
    stats = await world.services.stores.monitoring.stats(_all_time())
    assert (stats.inbound_total, stats.outbound_total, stats.unique_users) == (2, 2, 1)


async def test_the_command_refuses_a_value_that_is_not_a_number(url: str) -> None:
    done = await asyncio.to_thread(
        run_cli, "erase", "--participant", "not-a-number", "--tenant", TENANT, url=url
    )

    assert done.returncode == 2
    assert "not a phone number" in done.stderr


def _all_time() -> StatsQuery:
    return StatsQuery(scope=Scope(tenant_ids=None), channel=Channel.WHATSAPP)
