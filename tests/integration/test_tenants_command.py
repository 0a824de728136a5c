"""``walker-channels tenants`` as a user runs it (a subprocess), on SQLite and PostgreSQL.

What the command maps is resolved at once by another process reading the same database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db_urls import url_with_schema
from walker_channels.models import Address, Channel
from walker_channels.sql import SqlStores
from walker_channels.sql.tables import tenant_numbers

pytestmark = pytest.mark.anyio

NUMBER = "+14155550122"
OTHER = "+14155550133"


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
    """The same database, as the web process sees it (no tenant owns a number)."""
    base, schema = database
    sql = SqlStores.from_url(base, schema=schema)
    if schema is None:
        await sql.create_all()
    else:
        async with sql.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tenant_numbers.name}"))
    yield sql
    await sql.dispose()


def tenants(*args: str, url: str | None) -> subprocess.CompletedProcess[str]:
    """``walker-channels tenants ARGS``, the database from ``WALKER_DATABASE_URL``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WALKER_", "TWILIO_"))}
    if url is not None:
        environ["WALKER_DATABASE_URL"] = url
    script = Path(sys.executable).with_name("walker-channels")
    return subprocess.run(  # noqa: S603 - the project's own command
        [str(script), "tenants", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_add_map_list_and_unmap_are_seen_at_once(stores: SqlStores, url: str) -> None:
    whatsapp = Address(channel=Channel.WHATSAPP, value=NUMBER)
    sms = Address(channel=Channel.SMS, value=NUMBER)
    added = tenants("add", "t1", f"whatsapp:{NUMBER}", "--user", "u1", url=url)
    assert added.returncode == 0, added.stderr
    assert await stores.tenants.resolve(whatsapp) == "t1"
    assert await stores.tenants.resolve(sms) is None

    assert tenants("map-number", "t1", NUMBER, url=url).returncode == 0
    assert tenants("add", "t2", OTHER, url=url).returncode == 0
    assert await stores.tenants.resolve(sms) == "t1"
    listed = tenants("list", url=url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        f"t1\tsms\t{NUMBER}",
        f"t1\twhatsapp\t{NUMBER}\tu1",
        f"t2\tsms\t{OTHER}",
    ]

    released = tenants("unmap-number", "t1", f"whatsapp:{NUMBER}", url=url)
    assert released.returncode == 0, released.stderr
    assert await stores.tenants.resolve(whatsapp) is None
    assert await stores.tenants.resolve(sms) == "t1"


async def test_refusals_are_clear_and_change_nothing(stores: SqlStores, url: str) -> None:
    assert tenants("add", "t1", NUMBER, url=url).returncode == 0
    cases = {
        ("add", "t2", "+1415555"): "not a valid phone number",
        ("map-number", "t2", "hello"): "not a phone number",
        ("map-number", "t2", NUMBER): "belongs to another tenant",
        ("add", "t1", OTHER): "that tenant exists",
        ("unmap-number", "t2", NUMBER): "owns no such number",
    }
    for args, reason in cases.items():
        refused = tenants(*args, url=url)
        assert refused.returncode == 2, args
        assert reason in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    assert [n.address for n in await stores.tenants.numbers("t1")] == [NUMBER]
    assert await stores.tenants.tenants() == ["t1"]


def test_without_a_database_it_refuses() -> None:
    refused = tenants("list", url=None)
    assert refused.returncode == 2
    assert "pass --url or set WALKER_DATABASE_URL" in refused.stderr
