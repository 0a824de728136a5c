"""``walker-channels db upgrade|downgrade|current``: manage the walker-channels schema.

The database is ``--url``, else ``WALKER_DATABASE_URL``, else the embedded SQLite default.
This module imports SQLAlchemy only when a ``db`` command runs (the ``sql`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from walker_channels.exceptions import WalkerError

DEFAULT_URL = "sqlite+aiosqlite:///./walker-channels.db"


def register(subparsers: Any) -> None:
    """Add the ``db`` command group to the ``walker-channels`` command."""
    db = subparsers.add_parser("db", help="create or migrate the walker-channels database")
    actions = db.add_subparsers(dest="db_command", required=True)
    upgrade = actions.add_parser("upgrade", help="migrate the schema up (to the newest)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    downgrade = actions.add_parser("downgrade", help="migrate the schema down")
    downgrade.add_argument("--revision", default="-1", help="target (default: one step; base)")
    current = actions.add_parser("current", help="print the schema's current revision")
    for action in (upgrade, downgrade, current):
        action.add_argument("--url", help="database URL (default: WALKER_DATABASE_URL)")
        action.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("WALKER_DATABASE_URL") or DEFAULT_URL
    try:
        revision = asyncio.run(_run(args.db_command, url, getattr(args, "revision", None)))
    except WalkerError as exc:
        print(f"walker-channels db {args.db_command}: {exc}", file=sys.stderr)
        return 2
    print(f"database at revision {revision or 'base (empty)'}")
    return 0


async def _run(action: str, url: str, revision: str | None) -> str | None:
    from walker_channels.sql import create_engine, current_revision, downgrade, upgrade

    engine = create_engine(url)
    try:
        if action == "upgrade":
            await upgrade(engine, revision or "head")
        elif action == "downgrade":
            await downgrade(engine, revision or "-1")
        return await current_revision(engine)
    finally:
        await engine.dispose()
