"""Accept stores pass the AcceptStore contract: the SQL one (one transaction) on SQLite and
PostgreSQL, and the one made of the in-memory stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from walker_channels.services.intake import StoreAccept
from walker_channels.sql import SqlStores
from walker_channels.testing import InMemoryStores
from walker_channels.testing.contracts import AcceptStoreContract, AcceptWorld

pytestmark = pytest.mark.anyio


class TestSqlAcceptStore(AcceptStoreContract):
    @pytest.fixture
    async def accept_world(
        self, fresh_database: tuple[str, str | None]
    ) -> AsyncIterator[AcceptWorld]:
        url, schema = fresh_database
        async with (
            SqlStores.from_url(url, schema=schema) as stores,
            SqlStores.from_url(url, schema=schema) as elsewhere,
        ):
            # Migrated, not create_all: the version counter is the migration's table.
            await stores.upgrade()
            yield AcceptWorld(
                accepts=stores.accepts,
                other=elsewhere.accepts,
                tenants=stores.tenants,
                queue=stores.inbox,
                events=stores.events,
                conversations=stores.conversations,
            )


class TestStoreAccept(AcceptStoreContract):
    @pytest.fixture
    def accept_world(self) -> AcceptWorld:
        stores = InMemoryStores()
        other = StoreAccept(
            tenants=stores.tenants,
            conversations=stores.conversations,
            events=stores.events,
            queue=stores.inbox,
        )
        return AcceptWorld(
            accepts=stores.accepts,
            other=other,
            tenants=stores.tenants,
            queue=stores.inbox,
            events=stores.events,
            conversations=stores.conversations,
        )
