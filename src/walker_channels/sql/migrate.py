"""Alembic migrations shipped in the package, run programmatically (no alembic.ini needed).

``await upgrade(engine)`` brings a database to the newest schema; ``walker-channels db
upgrade`` does the same from the command line. The version table is ``walker_alembic_version``
so the host application's own Alembic history is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from walker_channels.sql.engine import Database

VERSION_TABLE = "walker_alembic_version"
MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations (``url`` for the alembic CLI path)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (the newest by default)."""
    await _run(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Migrate the database down to ``revision`` (``base`` drops every walker table)."""
    await _run(engine, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` if it was never migrated."""
    async with Database(engine).read() as conn:
        return await conn.run_sync(_current)


def _current(connection: sa.Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


async def _run(engine: AsyncEngine, action: Literal["upgrade", "downgrade"], revision: str) -> None:
    async with Database(engine).write() as conn:
        await conn.run_sync(_run_sync, action, revision)


def _run_sync(
    connection: sa.Connection, action: Literal["upgrade", "downgrade"], revision: str
) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
