"""``walker-channels briefs run-due``: send the daily briefs that are due (for cron or a worker).

Settings come from the environment, as the web settings read them: ``WALKER_DATABASE_URL``
(schedules and the event log, through :class:`walker_channels.sql.SqlStores`),
``WALKER_PSEUDONYM_KEY``, and ``SMTP_*`` (or ``--console`` to print instead of sending). The
host's brief data source and email agent are named as ``module:attribute`` (a class or
function there is called with no arguments); without a data source the briefs report the
tenant's conversations of the day before (:class:`~walker_channels.email.ConversationBriefData`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from walker_channels.clock import SystemClock
from walker_channels.exceptions import ConfigurationError, StoreError, WalkerError

if TYPE_CHECKING:
    from walker_channels.ports import BriefDataSource, MessageTransport
    from walker_channels.services.email.schedules import RunDueReport
    from walker_channels.services.email.sources import StatsReader

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./walker-channels.db"
"""The same default as the web settings (and so the demo)."""


def register(subparsers: Any) -> None:
    """Add ``briefs run-due`` to the ``walker-channels`` command."""
    briefs = subparsers.add_parser("briefs", help="daily email briefs")
    actions = briefs.add_subparsers(dest="briefs_command", required=True)
    run_due = actions.add_parser("run-due", help="send every daily brief that is due now")
    run_due.add_argument("--now", type=_aware, help="ISO time with offset (default: now)")
    run_due.add_argument("--data-source", metavar="MODULE:ATTR", help="the BriefDataSource")
    run_due.add_argument("--agent", metavar="MODULE:ATTR", help="the email agent (AgentRunner)")
    run_due.add_argument("--templates", metavar="DIR", help="the host's email template directory")
    run_due.add_argument("--console", action="store_true", help="print emails instead of sending")
    run_due.add_argument(
        "--lease",
        type=_minutes,
        metavar="MINUTES",
        help="take over a run still marked running after this long (default: 15)",
    )
    run_due.set_defaults(handler=_run_due)


def _run_due(args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(run_due_from_env(os.environ, args))
    except WalkerError as exc:
        hint = " (is the schema there? walker-channels db upgrade)"
        print(
            f"walker-channels briefs run-due: {exc}{hint if isinstance(exc, StoreError) else ''}",
            file=sys.stderr,
        )
        return 2
    return _print_report(report)


def _print_report(report: RunDueReport) -> int:
    from walker_channels.services.email import RunOutcome

    counts = ", ".join(f"{report.count(outcome)} {outcome}" for outcome in RunOutcome)
    print(f"checked {report.checked} schedules: {counts}")
    unsent = [r for r in report.runs if r.outcome in (RunOutcome.FAILED, RunOutcome.ABANDONED)]
    for run in unsent:
        print(f"  {run.schedule_id} {run.local_date} {run.outcome}: {run.error}", file=sys.stderr)
    return 1 if unsent else 0


async def run_due_from_env(environ: Mapping[str, str], args: argparse.Namespace) -> RunDueReport:
    """Wire a scheduler from ``environ`` and the options, run it once, close the database."""
    from walker_channels.services.email import (
        BriefScheduler,
        DailyBriefService,
        EmailOutbox,
        TemplateCatalog,
    )
    from walker_channels.services.email.schedules import DEFAULT_LEASE
    from walker_channels.sql import SqlStores

    key = environ.get("WALKER_PSEUDONYM_KEY")
    if not key:
        raise ConfigurationError("set WALKER_PSEUDONYM_KEY (the secret for recipient pseudonyms)")
    transport = _transport(environ, console=args.console)
    stores = SqlStores.from_url(environ.get("WALKER_DATABASE_URL") or DEFAULT_DATABASE_URL)
    try:
        clock = SystemClock()
        outbox = EmailOutbox(
            transport=transport, events=stores.events, clock=clock, pseudonym_key=key
        )
        briefs = DailyBriefService(
            outbox=outbox,
            templates=TemplateCatalog(args.templates),
            data=_data_source(args.data_source, stores.monitoring),
            agent=_load(args.agent) if args.agent else None,
            clock=clock,
        )
        scheduler = BriefScheduler(
            store=stores.schedules, briefs=briefs, clock=clock, lease=args.lease or DEFAULT_LEASE
        )
        return await scheduler.run_due(args.now)
    finally:
        await stores.dispose()


def _transport(environ: Mapping[str, str], *, console: bool) -> MessageTransport:
    from walker_channels.email import ConsoleEmailTransport, SmtpTransport, smtp_config_from_env

    if console:
        return ConsoleEmailTransport()
    if not environ.get("SMTP_HOST"):
        raise ConfigurationError("set SMTP_HOST and SMTP_FROM (or pass --console to print)")
    return SmtpTransport(smtp_config_from_env(environ))


def _data_source(path: str | None, reader: StatsReader) -> BriefDataSource:
    from walker_channels.services.email import ConversationBriefData

    if path:
        source: BriefDataSource = _load(path)
        return source
    return ConversationBriefData(reader)


def _load(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"{path!r} is not MODULE:ATTRIBUTE")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot import {path!r}: {exc}") from exc
    return target() if inspect.isclass(target) or inspect.isfunction(target) else target


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs an offset, e.g. 2026-03-29T08:00:00+02:00")
    return moment


def _minutes(value: str) -> timedelta:
    try:
        minutes = float(value)
    except ValueError:
        minutes = 0.0
    if not minutes > 0:
        raise argparse.ArgumentTypeError("--lease needs a positive number of minutes, e.g. 15")
    return timedelta(minutes=minutes)
