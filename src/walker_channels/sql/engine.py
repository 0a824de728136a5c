"""Engines and transactions: SQLAlchemy 2 on SQLite or PostgreSQL (psycopg or asyncpg).

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so concurrent writers queue for the lock instead of failing half-way.

Every transaction (each store's, the admin reads', the migrations') is a plain function of a
sync connection, run by :meth:`Database.run`; there is no other way in. On PostgreSQL it runs
through the async driver. On SQLite it runs whole in a worker thread on the stdlib driver, on
one pool: aiosqlite hops to its thread and back for every cursor call (about 1.4 ms per small
transaction here), one hop per transaction costs a quarter of that. There the async
(aiosqlite) engine is only the handle :func:`create_engine` returns, for a caller's own
queries: nothing in this package connects through it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import re
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from walker_channels.exceptions import ConfigurationError, MissingDependency, StoreError
from walker_channels.sql.dialect import SqlDialect

log = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KIB = 32_768
"""Page cache per connection (SQLite's default, 2 MiB, thrashes on tables with many indexes)."""
SQLITE_THREADS = 4
"""Worker threads (and pooled connections) for :meth:`Database.run` on SQLite."""
SQLITE_ANALYSIS_LIMIT = 1_000
"""Rows ``ANALYZE`` reads per index (SQLite's advice: 100 to 1000): about 2 ms at 1M events."""
SQLITE_ANALYZE_EVERY = 10_000
"""Write transactions between two ``ANALYZE`` runs of a process (the first write runs one)."""
T = TypeVar("T")
_WRITE = "walker_write"
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

    ``options`` go to :func:`sqlalchemy.ext.asyncio.create_async_engine` (e.g. ``pool_size``).
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
        _configure_sqlite(engine.sync_engine)
    return engine


def _search_path(url: URL, schema: str) -> dict[str, Any]:
    if not _SCHEMA_NAME.match(schema):
        raise ConfigurationError("a schema name is lower-case letters, digits and underscores")
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError("a schema can only be chosen on PostgreSQL")
    if url.get_driver_name() == "asyncpg":
        return {"server_settings": {"search_path": schema}}
    return {"options": f"-csearch_path={schema}"}


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute("PRAGMA compile_options")
        if ("ENABLE_MATH_FUNCTIONS",) not in {tuple(row) for row in cursor.fetchall()}:
            # Builds before 3.35 (or without the option) lack the ln() and floor() of the
            # response-time histogram (``aggregates.response_histogram``): Python's instead.
            dbapi_connection.create_function("ln", 1, math.log, deterministic=True)
            dbapi_connection.create_function("floor", 1, math.floor, deterministic=True)
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A deferred transaction that turns into a write can fail at once with SQLITE_BUSY
        # (the busy timeout does not apply); taking the write lock up front makes writers queue.
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An engine plus its dialect: the one way the stores run a transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = SqlDialect(engine.dialect.name)
        self._threads: _SqliteThreads | None = None

    async def run(self, work: Callable[[sa.Connection], T], *, write: bool = False) -> T:
        """``work(connection)`` in one transaction, committed if ``write`` and it returns.

        A read is rolled back at the end; ``work`` must not commit or begin on its own.
        """
        async with self._translated():
            if self.dialect.name == "sqlite":
                return await self._sqlite().run(work, write=write)
            async with self.engine.connect() as conn:
                if not write:
                    return await conn.run_sync(work)
                async with conn.begin():
                    return await conn.run_sync(work)

    async def dispose(self, *, engine: bool = True) -> None:
        """Close the SQLite worker threads and their connections, and (if ``engine``) every
        connection pooled by the engine (``engine=False``: the engine is borrowed)."""
        if self._threads is not None:
            self._threads.close()
            self._threads = None
        if engine:
            await self.engine.dispose()

    def _sqlite(self) -> _SqliteThreads:
        if self._threads is None:
            self._threads = _SqliteThreads(self.engine.url)
        return self._threads

    @asynccontextmanager
    async def _translated(self) -> AsyncIterator[None]:
        try:
            yield
        except DBAPIError as exc:
            # Only the error class: the statement and its parameters may hold personal data.
            kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
            raise StoreError(f"the database failed ({kind})") from exc


def analyze_sqlite(conn: sa.Connection) -> None:
    """Gather the planner's statistics (``sqlite_stat1``), sampling at most
    :data:`SQLITE_ANALYSIS_LIMIT` rows per index however large the file is."""
    conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
    conn.exec_driver_sql("ANALYZE")


class _SqliteThreads:
    """The stdlib-driver engine every SQLite transaction runs on, and its worker threads."""

    def __init__(self, url: URL) -> None:
        self._engine = sa.create_engine(
            url.set(drivername="sqlite+pysqlite"),
            poolclass=QueuePool,
            pool_size=SQLITE_THREADS,
            max_overflow=0,
            connect_args={"check_same_thread": False},
        )
        _configure_sqlite(self._engine)
        self._executor = ThreadPoolExecutor(SQLITE_THREADS, thread_name_prefix="walker-sqlite")
        self._writes = itertools.count()

    async def run(self, work: Callable[[sa.Connection], T], *, write: bool) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, work, write)

    def _transaction(self, work: Callable[[sa.Connection], T], write: bool) -> T:
        with self._engine.connect() as conn:
            if not write:
                return work(conn)
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                result = work(conn)
            # Statistics follow the data: without them the planner walks the event log for
            # a person's latest session (see sql.events.LAST_SESSION). Once at start, then
            # every SQLITE_ANALYZE_EVERY writes, after the commit (the answer waits ~2 ms).
            if next(self._writes) % SQLITE_ANALYZE_EVERY == 0:
                try:
                    with conn.begin():
                        analyze_sqlite(conn)
                except DBAPIError as exc:
                    # The work is committed: its caller must not see this (the next run may do).
                    log.warning("ANALYZE failed: %s", type(exc.orig).__name__)
            return result

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._engine.dispose()
