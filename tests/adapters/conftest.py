"""Every behaviour test in this folder runs twice: behind FastAPI and behind Flask."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

import pytest
from web_harness import Harness, MakeApp, running_app


@pytest.fixture(params=["fastapi", "flask"])
def adapter(request: pytest.FixtureRequest) -> str:
    """Which web framework serves the app."""
    return cast(str, request.param)


@pytest.fixture
def make_app(adapter: str, tmp_path: Path) -> Iterator[MakeApp]:
    """Start an app with settings overrides (closed at the end of the test)."""
    with ExitStack() as stack:
        databases = itertools.count(1)

        def make(**overrides: Any) -> Harness:
            database = tmp_path / f"walker-{next(databases)}.db"
            return stack.enter_context(running_app(adapter, database, **overrides))

        yield make


@pytest.fixture
def app(make_app: MakeApp) -> Harness:
    """The app with the default test settings."""
    return make_app()
