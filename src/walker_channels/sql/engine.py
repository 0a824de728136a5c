"""Engines and transactions: SQLAlchemy 2 on SQLite or PostgreSQL (psycopg or asyncpg).

Every transaction (each store's, the admin reads', the migrations') is a plain function of a
sync connection, run by :meth:`Database.run`; there is no other way in. It runs whole in a
thread on a sync driver: the async drivers hop for every statement (aiosqlite to its thread
and back, about 1.4 ms per small transaction here; psycopg's async driver through greenlet
and the event loop, about half its CPU), one hop per transaction costs far less. On SQLite
(:mod:`walker_channels.sql.sqlite`) the reads run on a few threads and every write on one
writer thread per process, which commits the writes that arrived meanwhile together; on
PostgreSQL (:mod:`walker_channels.sql.postgres`) on a pool of threads with a sync psycopg
connection each. A transaction whose caller is cancelled still runs to its end in its thread
(and a write commits), unless, on SQLite, it had not started.

The async engine :func:`create_engine` returns is the handle for a caller's own queries (and
PostgreSQL's ``LISTEN``, :mod:`walker_channels.sql.notify`): no transaction of this package
connects through it. An engine made elsewhere than :func:`create_engine` keeps running
through its async driver on PostgreSQL (its connect arguments cannot be read back), as does
one with asyncpg arguments libpq has no word for.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from walker_channels.exceptions import ConfigurationError, MissingDependency, StoreError
from walker_channels.sql.dialect import SqlDialect
from walker_channels.sql.postgres import PostgresThreads, Twin, postgres_twin
from walker_channels.sql.sqlite import SqliteThreads, configure_sqlite

T = TypeVar("T")
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}
_KNOWN = {
    "sqlite+aiosqlite",
    "postgresql+psycopg",
    "postgresql+psycopg_async",
    "postgresql+asyncpg",
}
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_twins: weakref.WeakKeyDictionary[AsyncEngine, Twin] = weakref.WeakKeyDictionary()


def database_url(url: str | URL) -> URL:
    """``url`` with an async driver: ``sqlite://`` -> aiosqlite, ``postgresql://`` -> psycopg."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            "the database URL is not valid: use sqlite:///path.db or postgresql://user@host/db"
        ) from exc
    driver = _ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    if driver not in _KNOWN:
        raise ConfigurationError(
            "the database URL needs an async driver: sqlite+aiosqlite, postgresql+psycopg "
            "or postgresql+asyncpg"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigurationError(
            "in-memory SQLite cannot be shared by concurrent connections: use a file, "
            "e.g. sqlite:///walker-channels.db"
        )
    return parsed.set(drivername=driver)


def create_engine(url: str | URL, *, schema: str | None = None, **options: Any) -> AsyncEngine:
    """An async engine for ``url``; ``schema`` sets PostgreSQL's ``search_path``.

    ``options`` go to :func:`sqlalchemy.ext.asyncio.create_async_engine` (e.g. ``pool_size``),
    and on PostgreSQL to the sync psycopg engine the transactions run on too.
    """
    parsed = database_url(url)
    connect_args: dict[str, Any] = dict(options.pop("connect_args", {}))
    if schema is not None:
        connect_args.update(_search_path(parsed, schema))
    try:
        engine = create_async_engine(parsed, connect_args=connect_args, **options)
    except ModuleNotFoundError as exc:
        extra = "sql" if parsed.get_backend_name() == "sqlite" else "postgres"
        raise MissingDependency(f"the {parsed.get_driver_name()} database driver", extra) from exc
    if parsed.get_backend_name() == "sqlite":
        configure_sqlite(engine.sync_engine)
    elif (twin := postgres_twin(parsed, connect_args, options)) is not None:
        _twins[engine] = twin
    return engine


def _search_path(url: URL, schema: str) -> dict[str, Any]:
    if not _SCHEMA_NAME.match(schema):
        raise ConfigurationError("a schema name is lower-case letters, digits and underscores")
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError("a schema can only be chosen on PostgreSQL")
    if url.get_driver_name() == "asyncpg":
        return {"server_settings": {"search_path": schema}}
    return {"options": f"-csearch_path={schema}"}


class Database:
    """An engine plus its dialect: the one way the stores run a transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = SqlDialect(engine.dialect.name)
        self._threads: SqliteThreads | PostgresThreads | None = None

    async def run(self, work: Callable[[sa.Connection], T], *, write: bool = False) -> T:
        """``work(connection)`` in one transaction, committed if ``write`` and it returns.

        A read is rolled back at the end; ``work`` must not commit or begin on its own.
        """
        async with self._translated():
            if (threads := self._threaded()) is not None:
                return await threads.run(work, write=write)
            async with self.engine.connect() as conn:  # an engine made elsewhere
                if not write:
                    return await conn.run_sync(work)
                async with conn.begin():
                    return await conn.run_sync(work)

    async def dispose(self, *, engine: bool = True) -> None:
        """Close the worker threads and their connections, and (if ``engine``) every
        connection pooled by the engine (``engine=False``: the engine is borrowed)."""
        if self._threads is not None:
            self._threads.close()
            self._threads = None
        if engine:
            await self.engine.dispose()

    def _threaded(self) -> SqliteThreads | PostgresThreads | None:
        """The threads transactions run on (built on first use), or ``None``: the async
        engine's own (an engine made elsewhere than :func:`create_engine`, on PostgreSQL)."""
        if self._threads is None:
            if self.dialect.name == "sqlite":
                self._threads = SqliteThreads(self.engine.url)
            elif (twin := _twins.get(self.engine)) is not None:
                self._threads = PostgresThreads(twin)
        return self._threads

    @asynccontextmanager
    async def _translated(self) -> AsyncIterator[None]:
        try:
            yield
        except DBAPIError as exc:
            # Only the error class: the statement and its parameters may hold personal data.
            kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
            raise StoreError(f"the database failed ({kind})") from exc
