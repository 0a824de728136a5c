"""On PostgreSQL every transaction runs whole in a worker thread on a sync psycopg engine, a
twin of the async one built from the same URL, connect arguments and engine options."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import Pool

from walker_channels.exceptions import StoreError
from walker_channels.models import LogQuery, StatsQuery
from walker_channels.sql import SqlStores
from walker_channels.sql.engine import Database, create_engine, database_url
from walker_channels.testing.contracts import ALL, inbound

pytestmark = pytest.mark.anyio
_NOTES = sa.table("thread_notes", sa.column("n", sa.Integer))


def _search_path(conn: sa.Connection) -> str:
    return str(conn.exec_driver_sql("SHOW search_path").scalar_one())


def _backend(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _opened_by_type() -> tuple[Counter[str], Any]:
    opened: Counter[str] = Counter()

    def count(dbapi_connection: Any, _record: Any) -> None:
        kind = type(dbapi_connection)
        opened[f"{kind.__module__}.{kind.__qualname__}"] += 1

    return opened, count


async def test_postgres_stores_connect_through_the_sync_driver_only(
    postgres_url: str, fresh_pg_schema: str
) -> None:
    opened, count = _opened_by_type()
    sa.event.listen(Pool, "connect", count)
    try:
        async with SqlStores.from_url(postgres_url, schema=fresh_pg_schema) as stores:
            await stores.upgrade()
            assert await stores.events.append(inbound("SM-thread"))
            await stores.monitoring.logs(LogQuery(scope=ALL))
            await stores.monitoring.stats(StatsQuery(scope=ALL))
    finally:
        sa.event.remove(Pool, "connect", count)
    assert set(opened) == {"psycopg.Connection"}


@pytest.mark.parametrize("driver", ["psycopg", "asyncpg"])
async def test_the_sync_twin_keeps_the_schema_of_the_async_engine(
    postgres_url: str, pg_schema: str, driver: str
) -> None:
    url = database_url(postgres_url).set(drivername=f"postgresql+{driver}")
    db = Database(create_engine(url, schema=pg_schema))
    try:
        assert await db.run(_search_path) == pg_schema
        async with db.engine.connect() as conn:  # the handle for a caller's own queries
            assert await conn.scalar(sa.text("SELECT current_schema()")) == pg_schema
    finally:
        await db.dispose()


async def test_transactions_share_at_most_pool_size_connections(postgres_url: str) -> None:
    db = Database(create_engine(postgres_url, pool_size=2))
    started = threading.Barrier(2)

    def both_at_once(conn: sa.Connection) -> int:
        started.wait()  # two transactions run at the same time, each on its own connection
        return _backend(conn)

    try:
        pids = await asyncio.gather(*(db.run(both_at_once) for _ in range(2)))
        pids += await asyncio.gather(*(db.run(_backend) for _ in range(8)))
    finally:
        await db.dispose()
    assert len(set(pids[:2])) == 2
    assert set(pids) == set(pids[:2])


async def test_a_cancelled_caller_lets_its_transaction_finish_and_free_its_connection(
    postgres_url: str, fresh_pg_schema: str
) -> None:
    db = Database(create_engine(postgres_url, schema=fresh_pg_schema, pool_size=1))
    await db.run(
        lambda conn: conn.execute(sa.text("CREATE TABLE thread_notes (n int)")), write=True
    )
    entered, release = threading.Event(), threading.Event()

    def slow_write(conn: sa.Connection) -> None:
        conn.execute(sa.insert(_NOTES).values(n=1))
        entered.set()
        release.wait()

    def notes(conn: sa.Connection) -> list[int]:
        return list(conn.execute(sa.select(_NOTES.c.n)).scalars())

    try:
        task = asyncio.ensure_future(db.run(slow_write, write=True))
        await asyncio.to_thread(entered.wait)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        # The pool's one connection came back: the next transaction gets it, and sees the
        # write its cancelled caller no longer waited for committed.
        assert await db.run(notes) == [1]
    finally:
        release.set()
        await db.dispose()


async def test_a_failing_statement_in_a_thread_is_a_store_error(postgres_url: str) -> None:
    db = Database(create_engine(postgres_url))
    try:
        with pytest.raises(StoreError, match="DivisionByZero"):
            await db.run(lambda conn: conn.exec_driver_sql("SELECT 1 / 0"), write=True)
        assert await db.run(_backend) > 0  # and the connection is usable again
    finally:
        await db.dispose()


async def test_an_engine_made_elsewhere_keeps_running_on_its_async_driver(
    postgres_url: str, pg_schema: str
) -> None:
    engine = create_async_engine(
        database_url(postgres_url), connect_args={"options": f"-csearch_path={pg_schema}"}
    )
    opened, count = _opened_by_type()
    sa.event.listen(Pool, "connect", count)
    db = Database(engine)
    try:
        assert await db.run(_search_path) == pg_schema  # its connect arguments still hold
    finally:
        sa.event.remove(Pool, "connect", count)
        await db.dispose()
    assert set(opened) == {"sqlalchemy.dialects.postgresql.psycopg.AsyncAdapt_psycopg_connection"}


async def test_asyncpg_settings_and_ssl_mode_carry_over_to_the_sync_twin(
    postgres_url: str,
) -> None:
    url = database_url(postgres_url).set(drivername="postgresql+asyncpg", query={"ssl": "disable"})
    settings = {"application_name": "walker threads"}
    opened, count = _opened_by_type()
    sa.event.listen(Pool, "connect", count)
    db = Database(create_engine(url, connect_args={"server_settings": settings}))
    try:
        name = await db.run(lambda conn: conn.exec_driver_sql("SHOW application_name").scalar())
    finally:
        sa.event.remove(Pool, "connect", count)
        await db.dispose()
    assert name == "walker threads"
    assert set(opened) == {"psycopg.Connection"}


async def test_asyncpg_arguments_without_a_libpq_twin_keep_the_async_driver(
    postgres_url: str,
) -> None:
    url = database_url(postgres_url).set(drivername="postgresql+asyncpg")
    opened, count = _opened_by_type()
    sa.event.listen(Pool, "connect", count)
    db = Database(create_engine(url, connect_args={"command_timeout": 30}))
    try:
        assert await db.run(_backend) > 0
    finally:
        sa.event.remove(Pool, "connect", count)
        await db.dispose()
    assert set(opened) == {"sqlalchemy.dialects.postgresql.asyncpg.AsyncAdapt_asyncpg_connection"}
