"""SQLite's transactions: the stdlib driver in threads, one writer per process.

WAL mode with a busy timeout; every write transaction starts with ``BEGIN IMMEDIATE``, so
writers of other processes queue for the lock instead of failing half-way. Reads run on a
small pool of threads; every write of the process runs on one writer thread owning one
connection (:class:`SqliteWriter`): the writes that arrive while it is busy share its next
transaction (group commit), each in its own savepoint, so one that fails is rolled back alone,
and each caller is answered only once its batch committed. Threads of one process so never
meet in SQLite's busy handler, which sleeps (1 to 100 ms a try) instead of queueing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

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
T = TypeVar("T")
_WRITE = "walker_write"


def configure_sqlite(engine: sa.Engine) -> None:
    """WAL, the busy timeout and the pragmas on every connection; ``BEGIN IMMEDIATE`` for
    writes (see :class:`SqliteThreads`)."""

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


def analyze_sqlite(conn: sa.Connection) -> None:
    """Gather the planner's statistics (``sqlite_stat1``), sampling at most
    :data:`SQLITE_ANALYSIS_LIMIT` rows per index however large the file is."""
    conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
    conn.exec_driver_sql("ANALYZE")


class SqliteThreads:
    """The stdlib-driver engine every SQLite transaction runs on: reader threads, one writer."""

    def __init__(self, url: URL) -> None:
        self._engine = sa.create_engine(
            url.set(drivername="sqlite+pysqlite"),
            poolclass=QueuePool,
            pool_size=SQLITE_READERS + 1,
            max_overflow=0,
            connect_args={"check_same_thread": False},
        )
        configure_sqlite(self._engine)
        self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="walker-sqlite")
        self._writer = SqliteWriter(self._engine)

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


class SqliteWriter:
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
                committed = self._write(conn, batch)
                for write in batch:
                    write.settle()
                if committed:
                    self._analyze_if_due(conn, len(batch))
                else:
                    # A failed COMMIT can leave SQLite's transaction open: back to the pool
                    # (which rolls it back), and the next batch starts on a fresh connection.
                    conn.close()
                    conn = None
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
        """``batch`` in one transaction; ``False`` if the transaction itself failed."""
        if not batch:
            return True
        try:
            with conn.begin() as transaction:
                if len(batch) == 1:
                    _alone(transaction, conn, batch[0])
                else:
                    for write in batch:
                        _in_savepoint(conn, write)
        except Exception as exc:  # not committed: every write of the batch fails
            for write in batch:
                write.error = write.error or exc
            return False
        return True

    def _analyze_if_due(self, conn: sa.Connection, writes: int) -> None:
        """Statistics follow the data: without them the planner walks the event log for a
        person's latest session (see sql.events.LAST_SESSION). Once at start, then every
        SQLITE_ANALYZE_EVERY writes, after the batch's callers were answered (~2 ms)."""
        self._until_analyze -= writes
        if self._until_analyze > 0:
            return
        self._until_analyze = SQLITE_ANALYZE_EVERY
        try:
            with conn.begin():
                analyze_sqlite(conn)
        except DBAPIError as exc:
            # The work is committed: its callers must not see this (a later run may do).
            log.warning("ANALYZE failed: %s", type(exc.orig).__name__)


def _alone(transaction: sa.RootTransaction, conn: sa.Connection, write: _Write) -> None:
    """A batch of one ``write``, without a savepoint: if it raises, its transaction rolls back
    (and the connection stays usable)."""
    try:
        write.result = write.work(conn)
    except Exception as exc:  # the caller gets it
        write.error = exc
        transaction.rollback()


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
