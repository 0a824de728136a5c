"""``walker-channels tenants set-fallback-template|set-keywords|show-settings``: a tenant's
own consent keywords (per language) and the template sent once a service window closed.

The same settings as ``PUT /api/v1/admin/tenants/{tenant_id}/settings``, in the database
given by ``--url`` or ``WALKER_DATABASE_URL``; each command changes one part and keeps the
rest.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import ValidationError

from walker_channels.exceptions import InvalidInput


def register(actions: Any) -> list[Any]:
    """Add the settings commands to the ``tenants`` group's ``actions``; their parsers."""
    template = actions.add_parser(
        "set-fallback-template",
        help="the template proactive sends and approvals use once the service window closed",
    )
    template.add_argument("tenant_id", help="the tenant's id")
    template.add_argument("content_sid", nargs="?", help="the template's ContentSid (HX...)")
    template.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable: fixed text, {text} or {last_message_date} (repeat for more)",
    )
    template.add_argument("--clear", action="store_true", help="remove the fallback template")
    keywords = actions.add_parser(
        "set-keywords", help="a language's STOP- and START-style keywords (replaces its list)"
    )
    keywords.add_argument("tenant_id", help="the tenant's id")
    keywords.add_argument("language", help="a language tag: en, es, pt-BR")
    keywords.add_argument("--stop", nargs="*", default=[], help="opt-out keywords")
    keywords.add_argument("--start", nargs="*", default=[], help="opt-in keywords")
    show = actions.add_parser("show-settings", help="print a tenant's settings as JSON")
    show.add_argument("tenant_id", help="the tenant's id")
    return [template, keywords, show]


COMMANDS = frozenset({"set-fallback-template", "set-keywords", "show-settings"})
"""The ``tenants`` commands this module answers."""


async def run(args: argparse.Namespace, url: str) -> list[str]:
    """Apply the command to the tenant's settings; the lines to print."""
    from walker_channels.sql import Database, SqlTenantSettingsStore, create_engine

    db = Database(create_engine(url))
    store = SqlTenantSettingsStore(db)
    try:
        settings = await store.get(args.tenant_id)
        command = args.tenants_command
        if command == "show-settings":
            return [json.dumps(settings.model_dump(mode="json"), indent=2)]
        try:
            changed = settings.replace(**_change(args, settings.model_dump(mode="json")))
        except ValidationError as exc:
            reasons = "; ".join(
                str(e["msg"]) for e in exc.errors(include_url=False, include_input=False)
            )
            raise InvalidInput(f"the settings cannot be used: {reasons}") from None
        await store.save(changed)
        return [f"saved the settings of {args.tenant_id}"]
    finally:
        await db.dispose()


def _change(args: argparse.Namespace, current: dict[str, Any]) -> dict[str, Any]:
    if args.tenants_command == "set-keywords":
        keywords = {**current["keywords"], args.language: {"stop": args.stop, "start": args.start}}
        return {"keywords": keywords}
    if args.clear:
        return {"fallback_template": None}
    if not args.content_sid:
        raise InvalidInput("give the template's ContentSid, or --clear to remove it")
    return {"fallback_template": {"content_sid": args.content_sid, "variables": _vars(args.var)}}


def _vars(pairs: list[str]) -> dict[str, str]:
    variables = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput("a variable is NAME=VALUE, e.g. --var 1={last_message_date}")
        variables[name] = value
    return variables
