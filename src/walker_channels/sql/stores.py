"""Every SQL store on one :class:`Database`: the object a composition root builds once and
disposes. The stores, the migrations and :meth:`SqlStores.create_all` all run their
transactions through it (in threads, on the sync drivers)."""

from __future__ import annotations

import weakref
from types import TracebackType
from typing import Any, Self

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from walker_channels.ports import Wakeup
from walker_channels.sql import migrate
from walker_channels.sql.accepts import SqlAcceptStore
from walker_channels.sql.approvals import SqlApprovalStore
from walker_channels.sql.consent import SqlConsentStore, SqlTenantSettingsStore
from walker_channels.sql.conversations import SqlConversationStore
from walker_channels.sql.engine import Database, create_engine
from walker_channels.sql.events import SqlEventStore
from walker_channels.sql.inbox import SqlInboundQueue
from walker_channels.sql.ledger import SqlOutboundLedger
from walker_channels.sql.monitoring import SqlMonitoringReader
from walker_channels.sql.notify import PostgresWakeup, channel_for, url_schema
from walker_channels.sql.privacy import SqlPrivacyStore
from walker_channels.sql.rollups import SqlRollups
from walker_channels.sql.schedules import SqlBriefScheduleStore
from walker_channels.sql.tables import metadata
from walker_channels.sql.tenants import SqlTenantResolver
from walker_channels.sql.turns import SqlTurnStore
from walker_channels.wakeups import LocalWakeup


class SqlStores:
    """The SQL implementation of every store port, sharing one engine.

    ``SqlStores.from_url("sqlite:///walker.db")`` or
    ``SqlStores.from_url("postgresql://user@host/db")`` (psycopg; ``postgresql+asyncpg://``
    also works). Create the schema with :meth:`upgrade` (migrations) or :meth:`create_all`
    (tests), and call :meth:`dispose` at shutdown (or use ``async with``). ``engine`` is the
    async engine, for a caller's own queries (and PostgreSQL's ``LISTEN``); the stores run
    their transactions on sync drivers in threads (see :mod:`walker_channels.sql.engine`).
    """

    def __init__(self, engine: AsyncEngine, *, schema: str | None = None) -> None:
        """``schema``: the PostgreSQL schema ``engine`` was made for (names its wake-ups)."""
        db = Database(engine)
        self._db = db
        self._schema = schema
        self._wakeup: Wakeup | None = None
        self.engine = engine
        self.events = SqlEventStore(db)
        self.approvals = SqlApprovalStore(db)
        self.ledger = SqlOutboundLedger(db)
        self.inbox = SqlInboundQueue(db)
        self.tenants = SqlTenantResolver(db)
        self.schedules = SqlBriefScheduleStore(db)
        self.monitoring = SqlMonitoringReader(db)
        self.privacy = SqlPrivacyStore(db)
        self.conversations = SqlConversationStore(db)
        self.accepts = SqlAcceptStore(db)
        self.turns = SqlTurnStore(db)
        self.consent = SqlConsentStore(db)
        self.tenant_settings = SqlTenantSettingsStore(db)
        self.rollups = SqlRollups(db)

    @classmethod
    def from_url(cls, url: str | URL, *, schema: str | None = None, **engine_options: Any) -> Self:
        """Build the stores on a new engine for ``url`` (``schema``: PostgreSQL search_path)."""
        return cls(create_engine(url, schema=schema, **engine_options), schema=schema)

    def wakeup(self) -> Wakeup:
        """How accepting processes wake the workers: ``NOTIFY`` on PostgreSQL; on SQLite only
        the workers in this process (shared by every ``SqlStores`` of one database file)."""
        if self._wakeup is None:
            if self._db.dialect.is_postgresql:
                schema = self._schema or url_schema(self.engine.url)
                self._wakeup = PostgresWakeup(self._db, channel=channel_for(schema))
            else:
                self._wakeup = _local_wakeup(str(self.engine.url))
        return self._wakeup

    async def upgrade(self, revision: str = "head") -> None:
        """Run the shipped migrations up to ``revision``."""
        await migrate.upgrade(self._db, revision)

    async def create_all(self) -> None:
        """Create every table directly from the models (tests and throwaway databases)."""
        await self._db.run(metadata.create_all, write=True)

    async def drop_all(self) -> None:
        """Drop every walker-channels table."""
        await self._db.run(metadata.drop_all, write=True)

    async def dispose(self) -> None:
        """Close every pooled connection (and the SQLite worker threads)."""
        await self._db.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.dispose()


_sqlite_wakeups: weakref.WeakValueDictionary[str, LocalWakeup] = weakref.WeakValueDictionary()


def _local_wakeup(url: str) -> LocalWakeup:
    found = _sqlite_wakeups.get(url)
    if found is None:
        found = LocalWakeup()
        _sqlite_wakeups[url] = found
    return found
