"""The consent stores pass their contract suites: in memory, and in SQL on SQLite and
PostgreSQL (the migration is checked against the tables by ``test_migrations``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from walker_channels.ports import ConsentStore, TenantSettingsStore
from walker_channels.sql import SqlStores
from walker_channels.sql.tables import opt_outs, tenant_keywords, tenant_settings
from walker_channels.testing import InMemoryConsentStore, InMemoryTenantSettingsStore
from walker_channels.testing.contracts import ConsentStoreContract, TenantSettingsStoreContract

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stores(database: tuple[str, str | None]) -> AsyncIterator[SqlStores]:
    """SQL stores with empty consent tables (created if missing: the schema is the module's)."""
    url, schema = database
    sql = SqlStores.from_url(url, schema=schema)
    await sql.create_all()
    async with sql.engine.begin() as conn:
        for table in (opt_outs, tenant_keywords, tenant_settings):
            await conn.execute(table.delete())
    yield sql
    await sql.dispose()


class TestInMemoryConsentStore(ConsentStoreContract):
    @pytest.fixture
    def consent_store(self) -> ConsentStore:
        return InMemoryConsentStore()


class TestInMemoryTenantSettingsStore(TenantSettingsStoreContract):
    @pytest.fixture
    def tenant_settings_store(self) -> TenantSettingsStore:
        return InMemoryTenantSettingsStore()


class TestSqlConsentStore(ConsentStoreContract):
    @pytest.fixture
    def consent_store(self, stores: SqlStores) -> ConsentStore:
        return stores.consent


class TestSqlTenantSettingsStore(TenantSettingsStoreContract):
    @pytest.fixture
    def tenant_settings_store(self, stores: SqlStores) -> TenantSettingsStore:
        return stores.tenant_settings
