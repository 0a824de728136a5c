"""``walker-channels briefs run-due``: send the daily briefs that are due (for cron or a worker).

Settings come from :class:`~walker_channels.app.Settings`, as the server reads them:
``WALKER_DATABASE_URL`` (schedules, the event log and the outbound ledger, so a re-run sends
nothing twice), ``WALKER_PSEUDONYM_KEY``, ``WALKER_EMAIL_TEMPLATES`` and ``SMTP_*`` (or
``--console`` to print instead of sending). The host's brief data source and email agent are
named as ``module:attribute`` (a class or function there is called with no arguments); without
a data source the briefs report the tenant's conversations of the day before
(:class:`~walker_channels.services.email.ConversationBriefData`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from walker_channels.exceptions import ConfigurationError, StoreError, WalkerError

if TYPE_CHECKING:
    from walker_channels.app import Settings
    from walker_channels.services.email import RunDueReport


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
        report = asyncio.run(run_due(args))
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


async def run_due(args: argparse.Namespace, settings: Settings | None = None) -> RunDueReport:
    """Build the email services from the settings and the options, run the due briefs once."""
    from walker_channels.app import Settings, email_services
    from walker_channels.email import ConsoleEmailTransport

    settings = settings if settings is not None else Settings()
    if not args.console and not settings.smtp_host:
        raise ConfigurationError("set SMTP_HOST and SMTP_FROM (or pass --console to print)")
    async with email_services(
        settings,
        email_transport=ConsoleEmailTransport() if args.console else None,
        brief_data=_load(args.data_source) if args.data_source else None,
        email_agent=_load(args.agent) if args.agent else None,
        email_templates=args.templates,
        brief_lease=args.lease,
    ) as email:
        return await email.scheduler.run_due(args.now)


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
