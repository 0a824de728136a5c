"""Turn stores pass the TurnStore contract: the SQL one (one transaction, and settling a
reply with the completion) on SQLite and PostgreSQL, and the one made of the in-memory
stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from walker_channels.sql import SqlStores
from walker_channels.testing import InMemoryStores
from walker_channels.testing.contracts import (
    SettlingTurnStoreContract,
    TurnStoreContract,
    TurnWorld,
)

pytestmark = pytest.mark.anyio


def _world(stores: SqlStores | InMemoryStores) -> TurnWorld:
    return TurnWorld(
        turns=stores.turns,
        queue=stores.inbox,
        events=stores.events,
        approvals=stores.approvals,
        ledger=stores.ledger,
        conversations=stores.conversations,
        consent=stores.consent,
        settings=stores.tenant_settings,
    )


class TestSqlTurnStore(SettlingTurnStoreContract):
    @pytest.fixture
    async def turn_world(self, fresh_database: tuple[str, str | None]) -> AsyncIterator[TurnWorld]:
        url, schema = fresh_database
        async with SqlStores.from_url(url, schema=schema) as stores:
            await stores.upgrade()
            yield _world(stores)


class TestStoreTurns(TurnStoreContract):
    @pytest.fixture
    def turn_world(self) -> TurnWorld:
        return _world(InMemoryStores())
