"""Alembic environment for walker-channels.

Run through :mod:`walker_channels.sql.migrate`, which hands over an open connection; the
alembic CLI works too with ``sqlalchemy.url`` set (run by :meth:`Database.run`, as always).
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from walker_channels.exceptions import ConfigurationError
from walker_channels.sql.engine import Database, create_engine
from walker_channels.sql.migrate import VERSION_TABLE, migration_lock
from walker_channels.sql.tables import metadata


def _configure(connection: sa.Connection) -> None:
    migration_lock(connection)  # concurrent migrations wait here, then find the schema current
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    db = Database(create_engine(url))
    try:
        await db.run(_configure, write=True)
    finally:
        await db.dispose()


def _run_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    url = context.config.get_main_option("sqlalchemy.url")
    if connection is not None:
        _configure(connection)
    elif url is None:
        raise ConfigurationError("set sqlalchemy.url, or run through walker_channels.sql.migrate")
    elif context.is_offline_mode():
        _run_offline(url)
    else:
        asyncio.run(_run_from_url(url))


_main()
