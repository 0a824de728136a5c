"""The email flows: custom sends, daily briefs and their schedules, recommendations, templates.

Needs the ``email`` extra (Jinja2, email-validator). Every email goes out through the one
:class:`~walker_channels.services.OutboundSender`, so it is reserved in the outbound ledger and
sent at most once per idempotency key. The composition root (:mod:`walker_channels.app`) wires
these services; by hand::

    templates = TemplateCatalog("/srv/app/email-templates")
    emails = EmailService(sender=sender, templates=templates)
    briefs = DailyBriefService(
        sender=sender, templates=templates, data=data_source, agent=email_agent, clock=clock
    )
    scheduler = BriefScheduler(store=schedule_store, briefs=briefs, clock=clock)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from walker_channels.extras import lazy_attribute

if TYPE_CHECKING:
    from walker_channels.services.email.brief import (
        BriefReceipt,
        DailyBriefRequest,
        DailyBriefService,
    )
    from walker_channels.services.email.config import BriefConfig
    from walker_channels.services.email.custom import (
        EmailReceipt,
        EmailSendRequest,
        EmailService,
    )
    from walker_channels.services.email.notifier import ReviewerEmails
    from walker_channels.services.email.schedules import (
        DEFAULT_LEASE,
        BriefScheduler,
        RunDueReport,
        RunOutcome,
        ScheduleBriefRequest,
        ScheduleNotFound,
        ScheduleRun,
        due_date,
        scheduled_at,
    )
    from walker_channels.services.email.sources import ConversationBriefData, StaticBriefData
    from walker_channels.services.email.template_files import TemplateCategory
    from walker_channels.services.email.templates import (
        TemplateCatalog,
        TemplateError,
        TemplateInfo,
        UnknownTemplate,
    )

__all__ = [
    "DEFAULT_LEASE",
    "BriefConfig",
    "BriefReceipt",
    "BriefScheduler",
    "ConversationBriefData",
    "DailyBriefRequest",
    "DailyBriefService",
    "EmailReceipt",
    "EmailSendRequest",
    "EmailService",
    "ReviewerEmails",
    "RunDueReport",
    "RunOutcome",
    "ScheduleBriefRequest",
    "ScheduleNotFound",
    "ScheduleRun",
    "StaticBriefData",
    "TemplateCatalog",
    "TemplateCategory",
    "TemplateError",
    "TemplateInfo",
    "UnknownTemplate",
    "due_date",
    "scheduled_at",
]

_HOMES = {
    **dict.fromkeys(("BriefReceipt", "DailyBriefRequest", "DailyBriefService"), "brief"),
    "BriefConfig": "config",
    **dict.fromkeys(("EmailReceipt", "EmailSendRequest", "EmailService"), "custom"),
    **dict.fromkeys(
        (
            "DEFAULT_LEASE",
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
    "ReviewerEmails": "notifier",
    **dict.fromkeys(("ConversationBriefData", "StaticBriefData"), "sources"),
    "TemplateCategory": "template_files",
    **dict.fromkeys(
        ("TemplateCatalog", "TemplateError", "TemplateInfo", "UnknownTemplate"), "templates"
    ),
}

_NEEDS = frozenset({"email_validator", "jinja2"})


def __getattr__(name: str) -> Any:
    # Loaded on first use: the package imports without the "email" extra.
    return lazy_attribute(
        __name__, _HOMES, name, needs=_NEEDS, feature="The email channel", extra="email"
    )
