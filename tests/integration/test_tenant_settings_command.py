"""``walker-channels tenants set-fallback-template|set-keywords|show-settings`` as a user runs
them (a subprocess), on SQLite and PostgreSQL: what they save is what the services read."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db_urls import url_with_schema
from walker_channels.models import ConsentKeywords, FallbackTemplate, TenantSettings
from walker_channels.sql import SqlStores
from walker_channels.sql.tables import tenant_keywords, tenant_settings

pytestmark = pytest.mark.anyio

SID = "HX" + "e" * 32


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
    """The same database, as the web process sees it (no tenant has settings)."""
    base, schema = database
    sql = SqlStores.from_url(base, schema=schema)
    await sql.create_all()
    async with sql.engine.begin() as conn:
        for table in (tenant_keywords, tenant_settings):
            await conn.execute(table.delete())
    yield sql
    await sql.dispose()


def tenants(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """``walker-channels tenants ARGS --url URL``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WALKER_", "TWILIO_"))}
    script = Path(sys.executable).with_name("walker-channels")
    return subprocess.run(  # noqa: S603 - the project's own command
        [str(script), "tenants", *args, "--url", url],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_commands_save_one_part_each_and_show_them(stores: SqlStores, url: str) -> None:
    template = tenants(
        "set-fallback-template", "t1", SID, "--var", "1={last_message_date}", url=url
    )
    keywords = tenants("set-keywords", "t1", "es", "--stop", "BAJA", "--start", "ALTA", url=url)
    shown = tenants("show-settings", "t1", url=url)

    assert template.returncode == keywords.returncode == shown.returncode == 0, template.stderr
    saved = await stores.tenant_settings.get("t1")
    assert saved.fallback_template == FallbackTemplate(
        content_sid=SID, variables={"1": "{last_message_date}"}
    )
    assert saved.keywords == {"es": ConsentKeywords(stop=("baja",), start=("alta",))}
    assert json.loads(shown.stdout) == saved.model_dump(mode="json")

    cleared = tenants("set-fallback-template", "t1", "--clear", url=url)
    assert cleared.returncode == 0, cleared.stderr
    assert (await stores.tenant_settings.get("t1")).fallback_template is None


async def test_bad_settings_are_refused_with_a_reason_and_nothing_is_saved(
    stores: SqlStores, url: str
) -> None:
    bad_sid = tenants("set-fallback-template", "t1", "HX-nope", url=url)
    bad_var = tenants("set-fallback-template", "t1", SID, "--var", "1={person}", url=url)
    bad_language = tenants("set-keywords", "t1", "Spanish!", "--stop", "BAJA", url=url)

    for refused in (bad_sid, bad_var, bad_language):
        assert refused.returncode == 2
        assert "the settings cannot be used" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert await stores.tenant_settings.get("t1") == TenantSettings(tenant_id="t1")
