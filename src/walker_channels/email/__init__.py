"""The email channel: SMTP transport, templates, custom sends, daily briefs and their schedules.

Needs the ``email`` extra (aiosmtplib, Jinja2, email-validator). Nothing is built at import;
a composition root wires, for example::

    transport = SmtpTransport(SmtpConfig(host="smtp.example.com", sender="news@example.com"))
    outbox = EmailOutbox(transport=transport, events=events, clock=clock, pseudonym_key=key)
    templates = TemplateCatalog("/srv/app/email-templates")
    emails = EmailService(outbox=outbox, templates=templates)
    briefs = DailyBriefService(
        outbox=outbox, templates=templates, data=data_source, agent=email_agent, clock=clock
    )
    scheduler = BriefScheduler(store=schedule_store, briefs=briefs, clock=clock)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from walker_channels.exceptions import MissingDependency

if TYPE_CHECKING:
    from walker_channels.email.addresses import email_address, validate_email_address
    from walker_channels.email.brief import BriefReceipt, DailyBriefRequest, DailyBriefService
    from walker_channels.email.config import (
        BriefConfig,
        SmtpConfig,
        SmtpSecurity,
        smtp_config_from_env,
    )
    from walker_channels.email.console import ConsoleEmailTransport
    from walker_channels.email.outbox import EmailDraft, EmailOutbox
    from walker_channels.email.schedules import (
        BriefScheduler,
        RunDueReport,
        RunOutcome,
        ScheduleBriefRequest,
        ScheduleNotFound,
        ScheduleRun,
        due_date,
        scheduled_at,
    )
    from walker_channels.email.service import EmailReceipt, EmailSendRequest, EmailService
    from walker_channels.email.smtp import SmtpTransport
    from walker_channels.email.sources import ConversationBriefData, StaticBriefData
    from walker_channels.email.template_files import TemplateCategory
    from walker_channels.email.templates import (
        TemplateCatalog,
        TemplateError,
        TemplateInfo,
        UnknownTemplate,
    )

__all__ = [
    "BriefConfig",
    "BriefReceipt",
    "BriefScheduler",
    "ConsoleEmailTransport",
    "ConversationBriefData",
    "DailyBriefRequest",
    "DailyBriefService",
    "EmailDraft",
    "EmailOutbox",
    "EmailReceipt",
    "EmailSendRequest",
    "EmailService",
    "RunDueReport",
    "RunOutcome",
    "ScheduleBriefRequest",
    "ScheduleNotFound",
    "ScheduleRun",
    "SmtpConfig",
    "SmtpSecurity",
    "SmtpTransport",
    "StaticBriefData",
    "TemplateCatalog",
    "TemplateCategory",
    "TemplateError",
    "TemplateInfo",
    "UnknownTemplate",
    "due_date",
    "email_address",
    "scheduled_at",
    "smtp_config_from_env",
    "validate_email_address",
]

_HOMES = {
    **dict.fromkeys(("email_address", "validate_email_address"), "addresses"),
    **dict.fromkeys(("BriefReceipt", "DailyBriefRequest", "DailyBriefService"), "brief"),
    **dict.fromkeys(
        ("BriefConfig", "SmtpConfig", "SmtpSecurity", "smtp_config_from_env"), "config"
    ),
    "ConsoleEmailTransport": "console",
    **dict.fromkeys(("EmailDraft", "EmailOutbox"), "outbox"),
    **dict.fromkeys(
        (
            "BriefScheduler",
            "RunDueReport",
            "RunOutcome",
            "ScheduleBriefRequest",
            "ScheduleNotFound",
            "ScheduleRun",
            "due_date",
            "scheduled_at",
        ),
        "schedules",
    ),
    **dict.fromkeys(("EmailReceipt", "EmailSendRequest", "EmailService"), "service"),
    "SmtpTransport": "smtp",
    **dict.fromkeys(("ConversationBriefData", "StaticBriefData"), "sources"),
    "TemplateCategory": "template_files",
    **dict.fromkeys(
        ("TemplateCatalog", "TemplateError", "TemplateInfo", "UnknownTemplate"), "templates"
    ),
}
_EXTRA_MODULES = frozenset({"aiosmtplib", "email_validator", "jinja2"})


def __getattr__(name: str) -> Any:
    # Loaded on first use, so ``walker-channels --help`` and the settings work without the
    # "email" extra; using the email channel without it names the extra to install.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{home}")
    except ModuleNotFoundError as exc:
        if exc.name in _EXTRA_MODULES:
            raise MissingDependency("The email channel", "email") from exc
        raise
    return getattr(module, name)
