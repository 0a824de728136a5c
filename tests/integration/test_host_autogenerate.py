"""A host application's own Alembic ``revision --autogenerate`` on a database that holds the
walker tables: with ``include_name=exclude_walker_tables`` in its ``env.py`` it proposes only
its own tables; without it, it proposes dropping every walker table."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from walker_channels.sql import WALKER_TABLES, Database, create_engine, upgrade

HOST_ENV = """
    import sqlalchemy as sa
    from alembic import context

    from walker_channels.sql import exclude_walker_tables

    target_metadata = sa.MetaData()
    sa.Table(
        "host_widgets",
        target_metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50)),
    )

    config = context.config
    hooks = {"include_name": exclude_walker_tables} if config.attributes["exclude"] else {}
    context.configure(
        connection=config.attributes["connection"], target_metadata=target_metadata, **hooks
    )
    with context.begin_transaction():
        context.run_migrations()
"""


@pytest.fixture
def migrated(database: tuple[str, str | None]) -> Iterator[sa.Engine]:
    """The walker tables migrated to head, and a sync engine on them for the host's Alembic."""
    url, schema = database

    async def migrate() -> None:
        db = Database(create_engine(url, schema=schema))
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    parsed = sa.make_url(url)
    if schema is None:
        engine = sa.create_engine(parsed.set(drivername="sqlite"))
    else:
        options = {"options": f"-csearch_path={schema}"}
        engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"), connect_args=options)
    yield engine
    engine.dispose()


def _autogenerate(engine: sa.Engine, tmp_path: Path, *, exclude: bool) -> str:
    """Run the host's ``alembic revision --autogenerate`` and return the script it wrote."""
    config = Config(str(tmp_path / "alembic.ini"))  # the host's own, as `alembic init` writes
    command.init(config, str(tmp_path / "host_migrations"))
    config = Config(str(tmp_path / "alembic.ini"))
    (tmp_path / "host_migrations" / "env.py").write_text(textwrap.dedent(HOST_ENV))
    with engine.connect() as connection:
        config.attributes.update(connection=connection, exclude=exclude)
        command.revision(config, message="host tables", autogenerate=True)
    (script,) = (tmp_path / "host_migrations" / "versions").glob("*.py")
    return script.read_text()


def test_the_helper_leaves_every_walker_table_alone(migrated: sa.Engine, tmp_path: Path) -> None:
    script = _autogenerate(migrated, tmp_path, exclude=True)

    assert "op.create_table('host_widgets'" in script
    assert "walker_" not in script


def test_without_the_helper_autogenerate_would_drop_the_walker_tables(
    migrated: sa.Engine, tmp_path: Path
) -> None:
    script = _autogenerate(migrated, tmp_path, exclude=False)

    for table in WALKER_TABLES:
        assert f"op.drop_table('{table}')" in script
