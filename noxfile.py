"""Developer tasks: ``nox`` runs lint, typecheck and tests; ``nox -s bench`` the benchmarks,
``nox -s soak`` the long fault-injection run, ``nox -s docs`` the API reference."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

TYPED_PATHS = ["src", "adapters", *(["examples"] if any(Path("examples").rglob("*.py")) else [])]


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (PostgreSQL tests need WALKER_TEST_POSTGRES_URL)."""
    session.install("-e", ".[all,dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the core, the adapters and the examples."""
    session.install("-e", ".[all,dev]")
    session.run("mypy", "--strict", *TYPED_PATHS)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Every benchmark in benchmarks/, each printing figures next to its same-run baseline."""
    session.install("-e", ".[all,dev]")
    scripts = sorted(Path("benchmarks").glob("bench_*.py"))
    chosen = [s for s in scripts if not session.posargs or s.stem in session.posargs]
    for script in chosen:
        session.run("python", str(script))


@nox.session(default=False)
def soak(session: nox.Session) -> None:
    """tests/soak at full size: 500 messages and 6 SIGKILLs per database and processing mode,
    waiting for unknown sends to be looked up; figures appended to soak-report.jsonl."""
    session.install("-e", ".[all,dev]")
    sizes = {"WALKER_SOAK_MESSAGES": "500", "WALKER_SOAK_KILLS": "6"}
    env = {name: os.environ.get(name, value) for name, value in sizes.items()}
    env["WALKER_SOAK_REPORT"] = os.environ.get("WALKER_SOAK_REPORT", "soak-report.jsonl")
    session.run("python", "-m", "pytest", "tests/soak", "-s", *session.posargs, env=env)


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """The docs site with the API reference: ``mkdocs build --strict`` into a scratch directory."""
    session.install("-e", ".[all,dev]")
    site_dir = Path(session.create_tmp()) / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site_dir), *session.posargs)
