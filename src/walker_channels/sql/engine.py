"""Engines and transactions: SQLAlchemy 2 on SQLite or PostgreSQL (psycopg or asyncpg).

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE`` so concurrent writers queue for the lock instead of failing half-way.

Every transaction (each store's, the admin reads', the migrations') is a plain function of a
sync connection, run by :meth:`Database.run`; there is no other way in. It runs whole in a
thread on a sync driver: the async drivers hop for every statement (aiosqlite to its thread
and back, about 1.4 ms per small transaction here; psycopg's async driver through greenlet
and the event loop, about half its CPU), one hop per transaction costs far less. The async
engine :func:`create_engine` returns is the handle for a caller's own queries (and
PostgreSQL's ``LISTEN``, :mod:`walker_channels.sql.notify`): no transaction of this package
connects through it.

On PostgreSQL the sync twin is psycopg (also for ``postgresql+asyncpg://`` URLs), built from
the same URL, connect arguments (the schema's ``search_path``) and engine options, with a pool
of :data:`POSTGRES_THREADS` connections (or the ``pool_size`` given), one per thread. An
engine made elsewhere than :func:`create_engine` keeps running through its async driver (its
connect arguments cannot be read back), as does one with asyncpg arguments libpq has no word
for. A transaction whose caller is cancelled still runs to its end in its thread (and a write
commits), then gives its connection back.

SQLite has one writer at a time, so a process has one writer thread owning one connection
(:class:`_SqliteWriter`), and reads run on a small pool beside it. Writes that arrive while a
batch is being written share the next transaction (group commit): each in its own savepoint,
so one that fails is rolled back alone, and each caller is answered only after its batch
committed. Threads of one process no longer queue for the write lock in SQLite's busy handler,
which sleeps (1 to 100 ms a try) instead of queueing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import re
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Any, NamedTuple, TypeVar

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
SQLITE_READERS = 3
"""Threads (and pooled connections) for the reads of :meth:`Database.run` on SQLite."""
SQLITE_BATCH = 64
"""Most writes one SQLite transaction takes (group commit; each in its own savepoint)."""
SQLITE_ANALYSIS_LIMIT = 1_000
"""Rows ``ANALYZE`` reads per index (SQLite's advice: 100 to 1000): about 2 ms at 1M events."""
SQLITE_ANALYZE_EVERY = 10_000
"""Write transactions between two ``ANALYZE`` runs of a process (the first write runs one)."""
POSTGRES_THREADS = 8
"""Threads (and pooled sync connections) for :meth:`Database.run` on PostgreSQL, unless the
engine options give a ``pool_size``."""
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
_ASYNC_ONLY = {"async_creator", "creator"}
"""Engine options a sync twin cannot take: an engine made with them keeps its async driver."""
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
"""asyncpg's ``ssl=`` URL values that are libpq's ``sslmode`` too."""


class _Twin(NamedTuple):
    """How to build the sync psycopg engine beside an async PostgreSQL engine."""

    url: URL
    options: dict[str, Any]
    threads: int


_twins: weakref.WeakKeyDictionary[AsyncEngine, _Twin] = weakref.WeakKeyDictionary()


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
        _configure_sqlite(engine.sync_engine)
    elif (twin := _postgres_twin(parsed, connect_args, options)) is not None:
        _twins[engine] = twin
    return engine


def _postgres_twin(url: URL, connect_args: dict[str, Any], options: dict[str, Any]) -> _Twin | None:
    """The sync psycopg engine beside an async one made with these, or ``None`` if they
    cannot all be carried over (the async engine then runs the transactions itself)."""
    libpq: tuple[URL, dict[str, Any]] | None = (url, dict(connect_args))
    if url.get_driver_name() == "asyncpg":
        libpq = _from_asyncpg(url, connect_args)
    if libpq is None or _ASYNC_ONLY & options.keys():
        return None
    sync_url, args = libpq
    threads = options.get("pool_size") or POSTGRES_THREADS
    twin = {**options, "connect_args": args}
    if issubclass(options.get("poolclass", QueuePool), QueuePool):
        # A sync pool, one connection per thread: more would never be checked out at once.
        twin.update(poolclass=QueuePool, pool_size=threads, max_overflow=0)
    return _Twin(sync_url.set(drivername="postgresql+psycopg"), twin, threads)


def _from_asyncpg(url: URL, connect_args: dict[str, Any]) -> tuple[URL, dict[str, Any]] | None:
    """asyncpg's URL and connect arguments in libpq's (psycopg's) terms, if all have some."""
    args = dict(connect_args)
    settings: dict[str, str] = args.pop("server_settings", {})
    ssl = url.query.get("ssl")
    if args or set(url.query) - {"ssl"} or (ssl is not None and ssl not in _SSL_MODES):
        return None
    if settings:  # libpq's options: -c name=value each, with spaces escaped
        args["options"] = " ".join(f"-c{k}={_escaped(str(v))}" for k, v in settings.items())
    return url.set(query={"sslmode": ssl} if ssl is not None else {}), args


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


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
        self._threads: _SqliteThreads | _PostgresThreads | None = None

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

    def _threaded(self) -> _SqliteThreads | _PostgresThreads | None:
        """The threads transactions run on (built on first use), or ``None``: the async
        engine's own (an engine made elsewhere than :func:`create_engine`, on PostgreSQL)."""
        if self._threads is None:
            if self.dialect.name == "sqlite":
                self._threads = _SqliteThreads(self.engine.url)
            elif (twin := _twins.get(self.engine)) is not None:
                self._threads = _PostgresThreads(twin)
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
    """The stdlib-driver engine every SQLite transaction runs on: reader threads, one writer."""

    def __init__(self, url: URL) -> None:
        self._engine = sa.create_engine(
            url.set(drivername="sqlite+pysqlite"),
            poolclass=QueuePool,
            pool_size=SQLITE_READERS + 1,
            max_overflow=0,
            connect_args={"check_same_thread": False},
        )
        _configure_sqlite(self._engine)
        self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="walker-sqlite")
        self._writer = _SqliteWriter(self._engine)

    async def run(self, work: Callable[[sa.Connection], T], *, write: bool) -> T:
        if write:
            return await self._writer.run(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read, work)

    def _read(self, work: Callable[[sa.Connection], T]) -> T:
        with self._engine.connect() as conn:
            return work(conn)

    def close(self) -> None:
        self._writer.close()
        self._readers.shutdown(wait=True)
        self._engine.dispose()


class _Write:
    """One caller's write: its work, and the future its event loop awaits."""

    __slots__ = ("error", "future", "loop", "result", "work")

    def __init__(self, work: Callable[[sa.Connection], Any], loop: asyncio.AbstractEventLoop):
        self.work = work
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()
        self.result: Any = None
        self.error: BaseException | None = None

    def settle(self) -> None:
        """Answer the caller, from the writer thread, once the batch is over."""
        with suppress(RuntimeError):  # its event loop is closed: nobody waits any more
            self.loop.call_soon_threadsafe(self._settle)

    def _settle(self) -> None:
        if self.future.done():  # the caller was cancelled meanwhile
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.result)


class _SqliteWriter:
    """One thread owning the write connection; writes queued meanwhile share a transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._until_analyze = 0

    async def run(self, work: Callable[[sa.Connection], T]) -> T:
        write = _Write(work, asyncio.get_running_loop())
        self._started()
        self._queue.put(write)
        result: T = await write.future
        return result

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _started(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="walker-sqlite-writer", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        conn: sa.Connection | None = None
        try:
            while (batch := self._next_batch()) is not None:
                if conn is None or conn.closed or conn.invalidated:
                    conn = self._engine.connect().execution_options(**{_WRITE: True})
                if not self._write(conn, batch):
                    # A failed COMMIT can leave SQLite's transaction open: back to the pool
                    # (which rolls it back), and the next batch starts on a fresh connection.
                    conn.close()
                    conn = None
                for write in batch:
                    write.settle()
        finally:
            if conn is not None:
                conn.close()

    def _next_batch(self) -> list[_Write] | None:
        """The next write (waiting for one), then whatever else is queued, up to a batch."""
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < SQLITE_BATCH:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(more)
        return [w for w in batch if not w.future.cancelled()]

    def _write(self, conn: sa.Connection, batch: list[_Write]) -> bool:
        """``batch`` in one transaction; ``False`` if it failed as a whole (not committed)."""
        if not batch:
            return True
        try:
            with conn.begin():
                if len(batch) == 1:
                    batch[0].result = batch[0].work(conn)
                else:
                    for write in batch:
                        _in_savepoint(conn, write)
        except Exception as exc:  # not committed: every write of the batch fails
            for write in batch:
                write.error = write.error or exc
            return False
        # Statistics follow the data: without them the planner walks the event log for a
        # person's latest session (see sql.events.LAST_SESSION). Once at start, then every
        # SQLITE_ANALYZE_EVERY writes, after the commit (the batch's answer waits ~2 ms).
        self._until_analyze -= len(batch)
        if self._until_analyze <= 0:
            self._until_analyze = SQLITE_ANALYZE_EVERY
            try:
                with conn.begin():
                    analyze_sqlite(conn)
            except DBAPIError as exc:
                # The work is committed: its callers must not see this (a later run may do).
                log.warning("ANALYZE failed: %s", type(exc.orig).__name__)
        return True


def _in_savepoint(conn: sa.Connection, write: _Write) -> None:
    """``write``'s work in a savepoint: if it raises, only its own statements roll back."""
    savepoint = conn.begin_nested()
    try:
        write.result = write.work(conn)
    except Exception as exc:  # the caller gets it; the batch goes on
        savepoint.rollback()
        write.error = exc
    else:
        savepoint.commit()


class _PostgresThreads:
    """The sync psycopg engine every PostgreSQL transaction runs on, one thread per connection."""

    def __init__(self, twin: _Twin) -> None:
        try:
            self._engine = sa.create_engine(twin.url, **twin.options)
        except ModuleNotFoundError as exc:
            raise MissingDependency("the psycopg database driver", "postgres") from exc
        self._threads = ThreadPoolExecutor(twin.threads, thread_name_prefix="walker-postgres")

    async def run(self, work: Callable[[sa.Connection], T], *, write: bool) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._run, work, write)

    def _run(self, work: Callable[[sa.Connection], T], write: bool) -> T:
        with self._engine.connect() as conn:  # a read is rolled back when it closes
            if not write:
                return work(conn)
            with conn.begin():
                return work(conn)

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._engine.dispose()
