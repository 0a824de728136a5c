"""``walker-channels erase --participant NUMBER --tenant T``: erase one person's data.

Deletes the person's events, drafts, sends, queued messages and sessions in the tenant (and
their messages to numbers no tenant owned), the tenant's numbers and brief schedules at their
address, and records the erasure by pseudonym. The database is ``--url``, else
``WALKER_DATABASE_URL``; ``WALKER_PSEUDONYM_KEY`` must be the servers' own, since the person's
rows are found by their pseudonym.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from walker_channels.exceptions import ConfigurationError, StoreError, WalkerError

if TYPE_CHECKING:
    from walker_channels.app import Settings
    from walker_channels.models import ErasureRecord
    from walker_channels.services import PrivacyService

_SCHEMA_HINT = " (is the schema there? walker-channels db upgrade)"


def register(subparsers: Any) -> None:
    """Add ``erase`` to the ``walker-channels`` command."""
    erase = subparsers.add_parser("erase", help="erase one person's data in one tenant")
    erase.add_argument(
        "--participant", required=True, metavar="NUMBER", help="their number (E.164) or email"
    )
    erase.add_argument("--tenant", required=True, help="the tenant whose data about them goes")
    erase.add_argument("--by", help="who asked, for the record (default: cli:<login name>)")
    erase.add_argument("--url", help="database URL (default: WALKER_DATABASE_URL)")
    erase.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    try:
        record = asyncio.run(erase(args))
    except WalkerError as exc:
        hint = _SCHEMA_HINT if isinstance(exc, StoreError) else ""
        print(f"walker-channels erase: {exc}{hint}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{n} {table}" for table, n in record.removed.items())
    print(f"erased participant {record.participant} of tenant {record.tenant_id}: {counts}")
    print(f"recorded as erasure {record.id} by {record.requested_by}")
    if not any(record.removed.values()):
        print(
            "nothing was stored about that person (is WALKER_PSEUDONYM_KEY the servers' key?)",
            file=sys.stderr,
        )
    return 0


async def erase(args: argparse.Namespace, settings: Settings | None = None) -> ErasureRecord:
    """Erase ``args.participant`` in ``args.tenant``; the record of the erasure."""
    async with privacy_service(args.url, settings) as privacy:
        by = args.by or f"cli:{_login()}"
        return await privacy.erase(args.participant, tenant_id=args.tenant, requested_by=by)


@asynccontextmanager
async def privacy_service(
    url: str | None, settings: Settings | None = None
) -> AsyncIterator[PrivacyService]:
    """The privacy service on the database ``url`` (else ``WALKER_DATABASE_URL``), closed after."""
    from walker_channels.app import Settings
    from walker_channels.clock import SystemClock
    from walker_channels.services import PrivacyService
    from walker_channels.sql import SqlStores

    settings = settings if settings is not None else Settings()
    database = url or settings.walker_database_url
    if not database:
        raise ConfigurationError(
            "no database: pass --url or set WALKER_DATABASE_URL "
            "(e.g. sqlite:///walker-channels.db or postgresql://user@host/db)"
        )
    config = settings.service_config()
    stores = SqlStores.from_url(database)
    try:
        yield PrivacyService(
            store=stores.privacy, config=config, clock=SystemClock(), retention=settings.retention()
        )
    finally:
        await stores.dispose()


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"
