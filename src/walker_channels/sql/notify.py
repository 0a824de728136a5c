"""PostgreSQL wake-ups: ``NOTIFY`` when a message is accepted, ``LISTEN`` in the workers.

The channel is ``walker_inbox`` (``walker_inbox_<schema>`` when the stores use a schema, so
deployments sharing a database do not wake each other). The payload is the conversation key,
never text or a number. Each listening worker holds one dedicated connection, detached from
the pool; when it drops, the listener logs, reconnects with backoff and wakes its worker
once connected again (a wake-up sent meanwhile was lost: the sweep finds its message).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from walker_channels.failures import failure_report
from walker_channels.ports import Wake
from walker_channels.sql.engine import Database

logger = logging.getLogger("walker_channels.sql.notify")

CHANNEL = "walker_inbox"
HEALTH_CHECK_SECONDS = 30.0
"""How often an idle listener checks its connection (a silently dropped one never errors)."""
FIRST_RETRY_SECONDS = 0.5
LAST_RETRY_SECONDS = 30.0
_MAX_IDENTIFIER = 63


def channel_for(schema: str | None) -> str:
    """The ``NOTIFY`` channel of the stores in ``schema`` (PostgreSQL's 63-byte names fit)."""
    if schema is None:
        return CHANNEL
    name = f"{CHANNEL}_{schema}"
    if len(name) <= _MAX_IDENTIFIER:
        return name
    return f"{CHANNEL}_{hashlib.sha256(schema.encode()).hexdigest()[:32]}"


def url_schema(url: URL) -> str | None:
    """The schema a libpq ``options=-csearch_path=<schema>`` in ``url`` chooses, if any."""
    options = url.query.get("options")
    for option in (options,) if isinstance(options, str) else options or ():
        for part in option.split():
            if part.startswith("-csearch_path="):
                return part.removeprefix("-csearch_path=").split(",")[0] or None
    return None


class PostgresWakeup:
    """:class:`~walker_channels.ports.Wakeup` over ``NOTIFY``/``LISTEN`` on ``db``."""

    def __init__(
        self,
        db: Database,
        *,
        channel: str = CHANNEL,
        health_check: float = HEALTH_CHECK_SECONDS,
        first_retry: float = FIRST_RETRY_SECONDS,
        last_retry: float = LAST_RETRY_SECONDS,
    ) -> None:
        self._db = db
        self.channel = channel
        self._health_check = health_check
        self._first_retry = first_retry
        self._last_retry = last_retry

    async def notify(self, key: str) -> None:
        """``pg_notify`` the channel with ``key`` (delivered to listeners on commit)."""
        statement = sa.text("SELECT pg_notify(:channel, :key)")
        params = {"channel": self.channel, "key": key}

        def send(conn: sa.Connection) -> None:
            conn.execute(statement, params)

        await self._db.run(send, write=True)

    @asynccontextmanager
    async def listening(self, wake: Wake) -> AsyncIterator[None]:
        """``LISTEN`` on a dedicated connection while the block runs; ``wake`` per notify."""
        task = asyncio.create_task(self._listen(wake), name="walker-listen")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _listen(self, wake: Wake) -> None:
        retry = self._first_retry
        while True:
            try:
                async with self._connection() as driver:
                    retry = self._first_retry
                    await self._hear(driver, wake)
            except Exception as exc:
                logger.warning(
                    "listening for wake-ups failed; reconnecting in %s s: %s",
                    retry,
                    failure_report(exc),
                )
            await asyncio.sleep(retry)
            retry = min(retry * 2, self._last_retry)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        # Through the engine, so its connect arguments (search path, TLS) hold; detached, so
        # the listener does not hold one of the pool's connections for ever.
        proxied = await self._db.engine.raw_connection()
        driver = proxied.driver_connection
        proxied.detach()
        if driver is None:
            raise ConnectionError("the pool gave no driver connection")
        try:
            yield driver
        finally:
            with suppress(Exception):
                await driver.close()

    async def _hear(self, driver: Any, wake: Wake) -> None:
        if self._db.engine.dialect.driver == "asyncpg":
            await self._hear_asyncpg(driver, wake)
        else:
            await self._hear_psycopg(driver, wake)

    async def _hear_psycopg(self, conn: Any, wake: Wake) -> None:
        from psycopg import sql

        await conn.set_autocommit(True)
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        wake()  # wake-ups sent while not listening were lost: sweep once now
        while True:
            async for _ in conn.notifies(timeout=self._health_check):
                wake()
            await conn.execute("SELECT 1")  # raises once the connection is gone

    async def _hear_asyncpg(self, conn: Any, wake: Wake) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(self.channel, lambda *_args: wake())
        wake()
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._health_check)
            if lost.is_set():
                raise ConnectionError("the listening connection was closed")
            await conn.execute("SELECT 1")
