"""Shared test configuration: async tests run on asyncio through the anyio plugin, and the
SQL tests get their database (a SQLite file, or a PostgreSQL schema of their own)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["httpx", "aiohttp"])
def twilio_http_client(request: pytest.FixtureRequest) -> str:
    """Each HTTP stack the Twilio transport can send through (``TwilioConfig.http_client``)."""
    return str(request.param)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL URL for tests that need a real server; skips (or fails in CI) without one."""
    url = os.environ.get("WALKER_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("WALKER_REQUIRE_POSTGRES"):
            pytest.fail("WALKER_REQUIRE_POSTGRES is set but WALKER_TEST_POSTGRES_URL is not")
        pytest.skip(
            "PostgreSQL tests need WALKER_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL for tests that need a real server (``WALKER_TEST_REDIS_URL``, default the
    local one); skips when it does not answer, or fails when ``WALKER_REQUIRE_SERVICES`` is set
    (in CI, which starts the server)."""
    return _answering(os.environ.get("WALKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The RabbitMQ URL for tests that need a real broker (``WALKER_TEST_RABBITMQ_URL``,
    default the local one as guest); skips or fails as :func:`redis_url` does."""
    default = "amqp://guest:guest@127.0.0.1:5672/"
    return _answering(os.environ.get("WALKER_TEST_RABBITMQ_URL", default), "RabbitMQ")


def _answering(url: str, server: str) -> str:
    """``url``, once its server accepts a connection; else a skip (a failure in CI)."""
    parts = urlsplit(url)
    port = parts.port or {"redis": 6379, "amqp": 5672}.get(parts.scheme, 0)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", port), 2).close()
    except OSError as exc:
        reason = f"{server} tests need a {server} server at {parts.hostname}:{port} ({exc})"
        if os.environ.get("WALKER_REQUIRE_SERVICES"):
            pytest.fail(f"WALKER_REQUIRE_SERVICES is set: {reason}")
        pytest.skip(reason)
    return url


def _schema(postgres_url: str) -> Iterator[str]:
    from walker_channels.sql.schemas import create_schema, drop_schema

    name = f"walker_test_{uuid4().hex[:12]}"
    asyncio.run(create_schema(postgres_url, name))
    try:
        yield name
    finally:
        asyncio.run(drop_schema(postgres_url, name))


@pytest.fixture(scope="module")
def pg_schema(postgres_url: str) -> Iterator[str]:
    """An empty schema of the test module's own on the shared server, dropped after it."""
    yield from _schema(postgres_url)


@pytest.fixture
def fresh_pg_schema(postgres_url: str) -> Iterator[str]:
    """An empty schema for one test, dropped after it."""
    yield from _schema(postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """``(url, schema)`` of the database a SQL test uses: a new SQLite file, or ``pg_schema``."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'walker.db'}", None
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """``(url, schema)``: a new SQLite file, or a new PostgreSQL schema of the test's own (each
    test migrates it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'walker.db'}", None
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("fresh_pg_schema")
