"""PostgreSQL schemas for isolated test runs: one fresh schema per run, dropped afterwards.

Several test sessions can share one server this way: each gives its schema to
:meth:`SqlStores.from_url(url, schema=...) <walker_channels.sql.SqlStores.from_url>`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

from sqlalchemy.engine import URL

from walker_channels.sql.engine import Database, create_engine


async def create_schema(url: str | URL, name: str) -> None:
    """Create the (empty) schema ``name``."""
    await _execute(url, name, "CREATE SCHEMA {name}")


async def drop_schema(url: str | URL, name: str) -> None:
    """Drop the schema ``name`` and everything in it."""
    await _execute(url, name, "DROP SCHEMA IF EXISTS {name} CASCADE")


@asynccontextmanager
async def temporary_schema(url: str | URL, prefix: str = "walker_test") -> AsyncIterator[str]:
    """A new uniquely named schema for the duration of the block."""
    name = f"{prefix}_{uuid4().hex[:12]}"
    await create_schema(url, name)
    try:
        yield name
    finally:
        await drop_schema(url, name)


async def _execute(url: str | URL, name: str, template: str) -> None:
    # create_engine validates the schema name, which is what makes formatting it in safe.
    db = Database(create_engine(url, schema=name))
    statement = template.format(name=name)
    try:
        await db.run(lambda conn: conn.exec_driver_sql(statement), write=True)
    finally:
        await db.dispose()
