"""``walker-channels retention purge``: remove message text older than the retention period.

The period is ``--days``, else ``WALKER_RETENTION_DAYS``. Events keep every figure the admin
statistics count; decided drafts lose their text and recipient, unsent sends their kept
message. The servers' sweeper does the same on its own when ``WALKER_RETENTION_DAYS`` is set;
this command is for cron, or for a first purge of a long history.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from walker_channels.cli.erase import privacy_service
from walker_channels.exceptions import StoreError, WalkerError

if TYPE_CHECKING:
    from walker_channels.models import RetentionReport


def register(subparsers: Any) -> None:
    """Add ``retention purge`` to the ``walker-channels`` command."""
    retention = subparsers.add_parser("retention", help="purge message text past retention")
    actions = retention.add_subparsers(dest="retention_command", required=True)
    purge = actions.add_parser("purge", help="remove message text older than the period")
    purge.add_argument(
        "--days", type=_days, help="keep this many days (default: WALKER_RETENTION_DAYS)"
    )
    purge.add_argument("--url", help="database URL (default: WALKER_DATABASE_URL)")
    purge.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(purge(args))
    except WalkerError as exc:
        hint = " (is the schema there? walker-channels db upgrade)"
        print(
            f"walker-channels retention purge: {exc}{hint if isinstance(exc, StoreError) else ''}",
            file=sys.stderr,
        )
        return 2
    print(
        f"text removed from {report.events} events, {report.approvals} decided drafts "
        f"and {report.sends} unsent sends"
    )
    return 0


async def purge(args: argparse.Namespace) -> RetentionReport:
    """Purge everything older than the period, in batches, until nothing is left."""
    async with privacy_service(args.url) as privacy:
        return await privacy.purge(retention=args.days)


def _days(value: str) -> timedelta:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError("--days needs a whole number of days, at least 1")
    return timedelta(days=days)
