"""On SQLite every transaction (stores, admin reads, schedules, migrations) runs on one pool of
stdlib connections: the async engine the stores are built on never opens a connection."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import Pool

from walker_channels.models import LogQuery, StatsQuery
from walker_channels.sql import SqlStores
from walker_channels.testing.contracts import ALL, T0, brief_schedule, inbound

pytestmark = pytest.mark.anyio


async def test_sqlite_stores_connect_through_one_driver_only(tmp_path: Path) -> None:
    opened: Counter[str] = Counter()

    def count(dbapi_connection: Any, _record: Any) -> None:
        kind = type(dbapi_connection)
        opened[f"{kind.__module__}.{kind.__qualname__}"] += 1

    sa.event.listen(Pool, "connect", count)
    try:
        async with SqlStores.from_url(f"sqlite:///{tmp_path / 'walker.db'}") as stores:
            await _every_kind_of_transaction(stores)
    finally:
        sa.event.remove(Pool, "connect", count)
    assert set(opened) == {"sqlite3.Connection"}


async def _every_kind_of_transaction(stores: SqlStores) -> None:
    await stores.upgrade()
    await stores.events.append(inbound("k1"))
    await stores.monitoring.logs(LogQuery(scope=ALL))
    await stores.monitoring.stats(StatsQuery(scope=ALL))
    await stores.monitoring.agent_analytics(StatsQuery(scope=ALL))
    schedule = brief_schedule()
    await stores.schedules.save(schedule)
    await stores.schedules.list_active()
    day = date(2026, 1, 5)
    assert await stores.schedules.claim_run(schedule.id, day, at=T0, lease=timedelta(minutes=5))
