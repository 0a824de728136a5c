"""The privacy store (erasure and retention) keeps its contract in memory and in SQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from walker_channels.sql import SqlStores, metadata
from walker_channels.testing import InMemoryStores
from walker_channels.testing.contracts import PrivacyStoreContract, PrivacyWorld
from walker_channels.testing.contracts.privacy import OwnNumber

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def pg_schema(pg_schema: str, postgres_url: str) -> str:
    """The module's schema, with the tables created once."""

    async def create_tables() -> None:
        async with SqlStores.from_url(postgres_url, schema=pg_schema) as stores:
            await stores.create_all()

    asyncio.run(create_tables())
    return pg_schema


class TestInMemoryPrivacyStore(PrivacyStoreContract):
    @pytest.fixture
    def privacy_world(self) -> PrivacyWorld:
        return InMemoryStores()

    @pytest.fixture
    def own_number(self, privacy_world: InMemoryStores) -> OwnNumber:
        async def own(tenant_id: str, number: str) -> None:
            privacy_world.add_number(tenant_id, number)

        return own


class TestSqlPrivacyStore(PrivacyStoreContract):
    @pytest.fixture
    async def privacy_world(self, database: tuple[str, str | None]) -> AsyncIterator[SqlStores]:
        url, schema = database
        stores = SqlStores.from_url(url, schema=schema)
        if schema is None:
            await stores.create_all()
        else:
            tables = ", ".join(table.name for table in metadata.sorted_tables)
            async with stores.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {tables}"))
        yield stores
        await stores.dispose()

    @pytest.fixture
    def own_number(self, privacy_world: SqlStores) -> OwnNumber:
        async def own(tenant_id: str, number: str) -> None:
            await privacy_world.tenants.add_number(tenant_id, number)

        return own
