"""PostgreSQL's transactions: a sync psycopg engine in threads, one hop per transaction.

The twin of an async engine made by :func:`walker_channels.sql.create_engine`: the same URL,
connect arguments (the schema's ``search_path``) and engine options, on psycopg (also for
``postgresql+asyncpg://`` URLs, whose arguments are carried over into libpq's terms), with a
pool of :data:`POSTGRES_THREADS` connections (or the ``pool_size`` given), one per thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.pool import QueuePool

from walker_channels.exceptions import MissingDependency

POSTGRES_THREADS = 8
"""Threads (and pooled sync connections) for :meth:`Database.run` on PostgreSQL, unless the
engine options give a ``pool_size``."""
T = TypeVar("T")
_ASYNC_ONLY = {"async_creator", "creator"}
"""Engine options a sync twin cannot take: an engine made with them keeps its async driver."""
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
"""asyncpg's ``ssl=`` URL values that are libpq's ``sslmode`` too."""


class Twin(NamedTuple):
    """How to build the sync psycopg engine beside an async PostgreSQL engine."""

    url: URL
    options: dict[str, Any]
    threads: int


def postgres_twin(url: URL, connect_args: dict[str, Any], options: dict[str, Any]) -> Twin | None:
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
    return Twin(sync_url.set(drivername="postgresql+psycopg"), twin, threads)


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


class PostgresThreads:
    """The sync psycopg engine every PostgreSQL transaction runs on, one thread per connection."""

    def __init__(self, twin: Twin) -> None:
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
