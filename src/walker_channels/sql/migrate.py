"""Alembic migrations shipped in the package, run programmatically (no alembic.ini needed).

``await upgrade(db)`` brings a database to the newest schema; ``walker-channels db upgrade``
does the same from the command line. The version table is ``walker_alembic_version`` so the
host application's own Alembic history is left alone.

Alembic is synchronous: a migration is one write transaction of :meth:`Database.run`, the
path every store takes, so on SQLite it uses the stores' own pool (no second engine). Each
function takes the :class:`Database` (``SqlStores.upgrade`` passes its own) or, as before, an
async engine, which is then borrowed for the one call.

**Many processes may migrate at once** (replicas started together, each with
``WALKER_MIGRATE_ON_START``): the migration transaction first takes a lock, so the others wait
for it and then find the schema at head instead of failing half-way (``CREATE TABLE`` racing
on PostgreSQL fails with ``UniqueViolation`` on ``pg_type``). On PostgreSQL that is a
transaction-level advisory lock, one per schema (:func:`migration_lock`), released at commit;
on SQLite it is the database's write lock (``BEGIN IMMEDIATE``, which every write transaction
of :meth:`Database.run` takes), held until commit.

After migrating a SQLite database the planner's statistics (``sqlite_stat1``) are gathered
again, in the same transaction: ``ANALYZE`` under ``PRAGMA analysis_limit``, so it samples
about a thousand rows per index however large the file is (2 ms at 1M events). Without
statistics SQLite picks the wrong index for :meth:`SqlEventStore.last_session
<walker_channels.sql.events.SqlEventStore.last_session>`: it walks the tenant's whole time
index for someone new (31 ms at 50k events in the tenant; microseconds with statistics).
``PRAGMA optimize`` is not enough here: before SQLite 3.46 it only analyses tables that this
connection has queried, and a migration queries none, so it did nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from walker_channels.sql.engine import Database
from walker_channels.sql.sqlite import analyze_sqlite

VERSION_TABLE = "walker_alembic_version"
MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = zlib.crc32(b"walker_channels.sql.migrate") & 0x7FFF_FFFF
"""The advisory lock class of migrations on PostgreSQL (the object is the schema's hash)."""
T = TypeVar("T")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations (``url`` for the alembic CLI path)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(db: Database | AsyncEngine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (the newest by default)."""
    await _run(db, partial(_migrate, "upgrade", revision), write=True)


async def downgrade(db: Database | AsyncEngine, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (``base`` drops every walker table)."""
    await _run(db, partial(_migrate, "downgrade", revision), write=True)


async def current_revision(db: Database | AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` if it was never migrated."""
    return await _run(db, _current)


async def _run(
    db: Database | AsyncEngine, work: Callable[[sa.Connection], T], *, write: bool = False
) -> T:
    if isinstance(db, Database):
        return await db.run(work, write=write)
    borrowed = Database(db)
    try:
        return await borrowed.run(work, write=write)
    finally:
        await borrowed.dispose(engine=False)


def _current(connection: sa.Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _migrate(
    action: Literal["upgrade", "downgrade"], revision: str, connection: sa.Connection
) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
    if connection.dialect.name == "sqlite":
        analyze_sqlite(connection)


def migration_lock(connection: sa.Connection) -> None:
    """Wait for, then hold until commit, the migration lock of the connection's schema.

    PostgreSQL only (``pg_advisory_xact_lock`` on :data:`MIGRATION_LOCK` and the current
    schema); on SQLite the write transaction's own lock serialises migrations already.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        sa.text("SELECT pg_advisory_xact_lock(:lock, hashtext(current_schema()))"),
        {"lock": MIGRATION_LOCK},
    )
