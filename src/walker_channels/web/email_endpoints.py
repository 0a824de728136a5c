"""The email endpoints: custom sends, daily briefs, their schedules, and the template listing.

Served only when the email channel is configured (it needs the ``email`` extra).
"""

from __future__ import annotations

from datetime import time

from walker_channels.models import AwareDatetime, BriefSchedule, Principal
from walker_channels.models.base import Frozen
from walker_channels.services.email import (
    BriefReceipt,
    BriefScheduler,
    DailyBriefRequest,
    DailyBriefService,
    EmailReceipt,
    EmailSendRequest,
    EmailService,
    ScheduleBriefRequest,
    TemplateInfo,
)
from walker_channels.web.auth import Access, require_tenant
from walker_channels.web.channel_endpoints import CHANNELS
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse

EMAIL = f"{CHANNELS}/email"


class TemplateList(Frozen):
    """The email templates and what each needs."""

    templates: tuple[TemplateInfo, ...]


class ScheduleView(Frozen):
    """A saved daily-brief schedule (its recipient address is not repeated back)."""

    id: str
    tenant_id: str
    user_id: str
    local_time: time
    timezone: str
    include_analytics: bool
    include_campaign_updates: bool
    include_recommendations: bool
    active: bool
    created_at: AwareDatetime

    @classmethod
    def of(cls, schedule: BriefSchedule) -> ScheduleView:
        """The view of ``schedule``."""
        return cls.model_validate(schedule.model_dump(exclude={"recipient_email"}))


class EmailEndpoints:
    """Email for members of a tenant (or superusers); the template listing for anyone signed in."""

    def __init__(
        self, *, emails: EmailService, briefs: DailyBriefService, scheduler: BriefScheduler
    ) -> None:
        self._emails = emails
        self._briefs = briefs
        self._scheduler = scheduler

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        member, tag = Access.TENANT_MEMBER, "email"
        return [
            Endpoint(
                "send_daily_brief", "POST", f"{EMAIL}/send-daily-brief", member,
                self.send_daily_brief, "Send a daily brief now", tag,
                body=DailyBriefRequest, response=BriefReceipt, errors=(502,),
            ),
            Endpoint(
                "send_email", "POST", f"{EMAIL}/send", member, self.send_email,
                "Send an email from a template, or a subject and body", tag,
                body=EmailSendRequest, response=EmailReceipt, errors=(404, 502),
            ),
            Endpoint(
                "schedule_daily_brief", "POST", f"{EMAIL}/schedule-daily-brief", member,
                self.schedule_daily_brief, "Create or replace a daily-brief schedule", tag,
                body=ScheduleBriefRequest, response=ScheduleView, errors=(404,),
            ),
            Endpoint(
                "list_email_templates", "GET", f"{EMAIL}/templates", Access.AUTHENTICATED,
                self.list_templates, "List the email templates and their variables", tag,
                response=TemplateList,
            ),
        ]  # fmt: skip

    async def send_daily_brief(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Gather, render and send one brief."""
        body = request.json_body(DailyBriefRequest)
        require_tenant(principal, body.tenant_id)
        return NeutralResponse.json(await self._briefs.send(body))

    async def send_email(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Render and send one email."""
        body = request.json_body(EmailSendRequest)
        require_tenant(principal, body.tenant_id)
        return NeutralResponse.json(await self._emails.send(body))

    async def schedule_daily_brief(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Save a schedule; ``run_due`` sends it at its local time."""
        body = request.json_body(ScheduleBriefRequest)
        require_tenant(principal, body.tenant_id)
        return NeutralResponse.json(ScheduleView.of(await self._scheduler.save(body)))

    async def list_templates(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Every template's metadata."""
        return NeutralResponse.json(TemplateList(templates=tuple(self._emails.templates())))
