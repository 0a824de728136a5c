"""Replicas started together on a fresh database all come up: one migrates, the others wait.

Each process is started first, says it is ready, and is held at a start line (a file
appearing), so the three migrations begin within milliseconds of each other, as replicas of one
deployment do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from walker_channels.sql.migrate import VERSION_TABLE, alembic_config

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
REPLICAS = 3

# Each replica: import everything, wait at the start line, then start as a deployment would.
_CLI = """
    import os, sys, time
    from pathlib import Path
    from walker_channels.cli import main
    import walker_channels.sql
    go = Path(sys.argv[1])
    Path(f"{go}.ready-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.001)
    sys.exit(main(["db", "upgrade", "--url", sys.argv[2]]))
"""
_APP = """
    import asyncio, os, sys, time
    from pathlib import Path
    from walker_channels.agents import echo_agent
    from walker_channels.app import Settings, build_services
    from walker_channels.models import Channel
    from walker_channels.testing import RecordingTransport

    async def serve() -> None:
        services = build_services(
            Settings(walker_database_url=sys.argv[2]),
            agent=echo_agent(),
            whatsapp_transport=RecordingTransport(Channel.WHATSAPP),
        )
        await services.start()  # WALKER_MIGRATE_ON_START=true: migrates here
        await services.close()

    go = Path(sys.argv[1])
    Path(f"{go}.ready-{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.001)
    asyncio.run(serve())
    print("started")
"""


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    """A new empty PostgreSQL database of its own (``walker_mig_...``), dropped after the test."""
    admin = sa.create_engine(_sync(postgres_url), isolation_level="AUTOCOMMIT")
    name = f"walker_mig_{uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _sync(url: str) -> sa.URL:
    return sa.make_url(url).set(drivername="postgresql+psycopg")


def _start_together(
    script: str, url: str, tmp_path: Path
) -> list[subprocess.CompletedProcess[str]]:
    go = tmp_path / "go"
    env = {
        **os.environ,
        "WALKER_MIGRATE_ON_START": "true",
        "WALKER_PSEUDONYM_KEY": "pseudonym-key-for-tests-0123456789",
        "WALKER_SWEEP_INTERVAL": "0",
    }
    command = [sys.executable, "-c", textwrap.dedent(script), str(go), url]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    replicas = [subprocess.Popen(command, env=env, **pipes) for _ in range(REPLICAS)]  # noqa: S603
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.ready-*"))) < REPLICAS:  # all imported, at the start line
        assert time.monotonic() < deadline, "the replicas did not start"
        time.sleep(0.01)
    go.touch()
    results = []
    for replica in replicas:
        out, err = replica.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(replica.args, replica.returncode, out, err))
    return results


def _versions(url: sa.URL | str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def _assert_all_started(results: list[subprocess.CompletedProcess[str]]) -> None:
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
        assert "UniqueViolation" not in result.stderr


@pytest.mark.parametrize("script", [_CLI, _APP], ids=["db-upgrade", "app-start"])
def test_replicas_started_together_on_a_fresh_postgres_database_all_start(
    script: str, fresh_database: str, tmp_path: Path
) -> None:
    _assert_all_started(_start_together(script, fresh_database, tmp_path))

    assert _versions(_sync(fresh_database)) == [HEAD]


def test_replicas_started_together_on_a_fresh_sqlite_file_all_start(tmp_path: Path) -> None:
    database = tmp_path / "walker.db"

    _assert_all_started(_start_together(_CLI, f"sqlite:///{database}", tmp_path))

    assert _versions(f"sqlite:///{database}") == [HEAD]
