"""Shared test configuration: async tests run on asyncio through the anyio plugin."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
