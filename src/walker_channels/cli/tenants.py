"""``walker-channels tenants add|list|map-number|unmap-number``: who owns which number
(and, in :mod:`~walker_channels.cli.tenant_settings`, each tenant's consent settings).

A tenant exists while it owns a number (there is no separate list of tenants), so ``add``
creates a tenant by mapping its first number. Numbers are typed as Twilio writes ``To``:
``whatsapp:+E164`` is the WhatsApp number, ``+E164`` the SMS number, and must be valid.
Every process reads the database on each webhook, so a change is seen at once. The database
is ``--url``, else ``WALKER_DATABASE_URL`` (as for ``walker-channels db``); SQLAlchemy is
imported only when a command runs (the ``sql`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from walker_channels.cli import tenant_settings
from walker_channels.exceptions import ConfigurationError, Conflict, WalkerError


def register(subparsers: Any) -> None:
    """Add the ``tenants`` command group to the ``walker-channels`` command."""
    tenants = subparsers.add_parser("tenants", help="list tenants, map and release their numbers")
    actions = tenants.add_subparsers(dest="tenants_command", required=True)
    add = actions.add_parser("add", help="create a tenant by mapping its first number")
    listing = actions.add_parser("list", help="print every tenant and its numbers")
    mapping = actions.add_parser("map-number", help="give a number to a tenant")
    unmapping = actions.add_parser("unmap-number", help="release a tenant's number")
    settings = tenant_settings.register(actions)
    for action in (add, mapping, unmapping):
        action.add_argument("tenant_id", help="the tenant's id")
        action.add_argument(
            "number", help="whatsapp:+E164 (WhatsApp), +E164 (SMS) or <channel>:<id> (telegram:...)"
        )
    for action in (add, mapping):
        action.add_argument("--user", dest="user_id", help="the user the number belongs to")
    for action in (add, listing, mapping, unmapping, *settings):
        action.add_argument("--url", help="database URL (default: WALKER_DATABASE_URL)")
        action.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from walker_channels.app import Settings
    from walker_channels.cli.db import _reason

    try:
        url = args.url or Settings().walker_database_url
        if not url:
            raise ConfigurationError(
                "no database: pass --url or set WALKER_DATABASE_URL "
                "(e.g. sqlite:///walker-channels.db or postgresql://user@host/db)"
            )
        lines = asyncio.run(_run(args, url))
    except WalkerError as exc:
        where = f"walker-channels tenants {args.tenants_command}"
        print(f"{where}: {exc}{_reason(exc)}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


async def _run(args: argparse.Namespace, url: str) -> list[str]:
    from walker_channels.exceptions import NotFound
    from walker_channels.phones import parse_address
    from walker_channels.sql import Database, SqlTenantResolver, create_engine

    command = args.tenants_command
    if command in tenant_settings.COMMANDS:
        return await tenant_settings.run(args, url)
    number = parse_address(args.number) if command != "list" else None
    db = Database(create_engine(url))
    registry = SqlTenantResolver(db)
    try:
        if command == "list":
            return [
                f"{tenant}\t{n.channel.value}\t{n.address}\t{n.user_id or ''}".rstrip()
                for tenant in await registry.tenants()
                for n in await registry.numbers(tenant)
            ]
        assert number is not None
        if command == "add" and await registry.numbers(args.tenant_id):
            raise Conflict("that tenant exists; use map-number to give it more numbers")
        if command == "unmap-number":
            if not await registry.remove_number(number, tenant_id=args.tenant_id):
                raise NotFound("that tenant owns no such number on that channel")
            return [f"released the {number.channel.value} number of {args.tenant_id}"]
        await registry.add_number(args.tenant_id, number, args.user_id)
        return [f"mapped the {number.channel.value} number to {args.tenant_id}"]
    finally:
        await db.dispose()
