"""``walker-channels db upgrade|downgrade|current|rollup``: manage the walker-channels schema.

``rollup`` rolls up every closed day's admin stats not rolled yet (``sql.rollups``; the sweep
loop does it too, hourly): for a cron job, or once after a bulk import.

The database is ``--url``, else ``WALKER_DATABASE_URL``; with neither the command refuses
(it never creates a database file by accident). This module imports SQLAlchemy only when a
``db`` command runs (the ``sql`` extra). A database error prints the driver's own reason.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from walker_channels.exceptions import ConfigurationError, StoreError, WalkerError


def register(subparsers: Any) -> None:
    """Add the ``db`` command group to the ``walker-channels`` command."""
    db = subparsers.add_parser("db", help="create or migrate the walker-channels database")
    actions = db.add_subparsers(dest="db_command", required=True)
    upgrade = actions.add_parser("upgrade", help="migrate the schema up (to the newest)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    downgrade = actions.add_parser("downgrade", help="migrate the schema down")
    downgrade.add_argument("--revision", default="-1", help="target (default: one step; base)")
    current = actions.add_parser("current", help="print the schema's current revision")
    rollup = actions.add_parser("rollup", help="roll up the closed days' admin stats")
    for action in (upgrade, downgrade, current, rollup):
        action.add_argument("--url", help="database URL (default: WALKER_DATABASE_URL)")
        action.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from walker_channels.app import Settings

    try:
        url = args.url or Settings().walker_database_url
        if not url:
            raise ConfigurationError(
                "no database: pass --url or set WALKER_DATABASE_URL "
                "(e.g. sqlite:///walker-channels.db or postgresql://user@host/db)"
            )
        done = asyncio.run(_run(args.db_command, url, getattr(args, "revision", None)))
    except WalkerError as exc:
        print(f"walker-channels db {args.db_command}: {exc}{_reason(exc)}", file=sys.stderr)
        return 2
    print(done)
    return 0


async def _run(action: str, url: str, revision: str | None) -> str:
    from walker_channels.sql import (
        Database,
        SqlRollups,
        create_engine,
        current_revision,
        downgrade,
        upgrade,
    )

    db = Database(create_engine(url))
    try:
        if action == "rollup":
            return f"rolled up {await SqlRollups(db).roll_all()} days"
        if action == "upgrade":
            await upgrade(db, revision or "head")
        elif action == "downgrade":
            await downgrade(db, revision or "-1")
        return f"database at revision {await current_revision(db) or 'base (empty)'}"
    finally:
        await db.dispose()


def _reason(exc: WalkerError) -> str:
    """The driver's own words for a database error (``database "x" does not exist``)."""
    cause = exc.__cause__
    if not isinstance(exc, StoreError) or cause is None:
        return ""
    original = getattr(cause, "orig", None) or cause
    lines = str(original).strip().splitlines()
    return f": {lines[0]}" if lines else ""
