"""The daily brief: analytics and campaign news from the host, recommendations from an agent.

Each section can be switched off. The brief never waits on a failing agent: without
recommendations it is still sent, with a note saying they are missing today.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import Field

from walker_channels.emails import email_address
from walker_channels.exceptions import ConfigurationError
from walker_channels.models import (
    Address,
    BriefMetric,
    CampaignUpdate,
    Channel,
    DeliveryStatus,
    RequestDate,
)
from walker_channels.models.base import Frozen, JsonObject
from walker_channels.ports import AgentRunner, BriefDataSource, Clock
from walker_channels.services.email.config import BriefConfig
from walker_channels.services.email.custom import send_email
from walker_channels.services.email.recommendations import Recommendations, ask_for_recommendations
from walker_channels.services.email.templates import TemplateCatalog, UnknownTemplate
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.sending import SendContext, SendPurpose


class DailyBriefRequest(Frozen):
    """Send one daily brief (the request the seed system documented, plus optional extras)."""

    user_id: str = Field(min_length=1)
    tenant_id: str = Field(min_length=1)
    recipient_email: str = Field(min_length=3, max_length=320, repr=False)
    include_analytics: bool = True
    include_campaign_updates: bool = True
    include_recommendations: bool = True
    recipient_name: str | None = Field(default=None, max_length=200, repr=False)
    """How the brief greets the reader; ``None``: "there"."""
    brief_date: RequestDate | None = None
    """The day reported on; ``None``: today (UTC) by the service's clock."""
    list_unsubscribe_url: str | None = Field(default=None, max_length=2000)


class BriefReceipt(Frozen):
    """A sent brief: its Message-ID, which sections it had, and notes on anything left out."""

    provider_message_id: str | None
    status: DeliveryStatus
    brief_date: date
    sections: tuple[str, ...]
    """Of ``analytics``, ``campaign_updates``, ``recommendations``: those included."""
    notes: tuple[str, ...] = ()
    participant: str
    duplicate: bool = False
    """This brief was sent already (same key): it was not sent again."""


class DailyBriefService:
    """Gathers, renders, sends and records daily briefs.

    ``agent`` may be ``None``: then briefs that ask for recommendations go out without them,
    with a note.
    """

    def __init__(
        self,
        *,
        sender: OutboundSender,
        templates: TemplateCatalog,
        data: BriefDataSource,
        agent: AgentRunner | None,
        clock: Clock,
        config: BriefConfig | None = None,
    ) -> None:
        if Channel.EMAIL not in sender.channels:
            raise ConfigurationError("daily briefs need a sender with an email transport")
        self._sender = sender
        self._templates = templates
        self._data = data
        self._agent = agent
        self._clock = clock
        self._config = config or BriefConfig()
        try:
            self._templates.get(self._config.template_name)
        except UnknownTemplate as exc:
            raise ConfigurationError(f"the daily brief template is missing: {exc}") from exc

    async def send(
        self,
        request: DailyBriefRequest,
        *,
        day: date | None = None,
        idempotency_key: str | None = None,
    ) -> BriefReceipt:
        """Build and send the brief for ``day`` (else the request's date, else today).

        Sent at most once per ``idempotency_key`` (per tenant); without one, once per user,
        recipient and day, so a re-run for the same day sends nothing new.
        """
        to = email_address(request.recipient_email)
        brief_date = day or request.brief_date or self._clock.now().date()
        analytics, updates = await self._gather(request, brief_date)
        advice = await self._recommend(request, to, brief_date, analytics, updates)
        content = self._templates.render(
            self._config.template_name,
            self._variables(request, brief_date, analytics, updates, advice),
            list_unsubscribe_url=request.list_unsubscribe_url,
        )
        sections = _sections(request, advice)
        context = SendContext(
            purpose=SendPurpose.DAILY_BRIEF,
            cause=idempotency_key or f"{request.user_id}:{to.value}:{brief_date.isoformat()}",
            tenant_id=request.tenant_id,
            data=_event_data(self._config.template_name, request, brief_date, sections, advice),
            session_id=advice.session_id,
            agent_id=None if advice.reply is None else advice.reply.agent_id,
            confidence=None if advice.reply is None else advice.reply.confidence,
            response_time_ms=advice.response_time_ms,
        )
        receipt = await send_email(self._sender, to, content, context)
        return BriefReceipt(
            provider_message_id=receipt.provider_message_id,
            status=DeliveryStatus.SENT,
            brief_date=brief_date,
            sections=sections,
            notes=advice.notes,
            participant=self._sender.participant(to),
            duplicate=receipt.duplicate,
        )

    async def _gather(
        self, request: DailyBriefRequest, day: date
    ) -> tuple[Sequence[BriefMetric], Sequence[CampaignUpdate]]:
        tenant, user = request.tenant_id, request.user_id
        analytics = (
            await self._data.analytics(tenant, user, day) if request.include_analytics else ()
        )
        updates = (
            await self._data.campaign_updates(tenant, user, day)
            if request.include_campaign_updates
            else ()
        )
        return analytics, updates

    async def _recommend(
        self,
        request: DailyBriefRequest,
        to: Address,
        day: date,
        analytics: Sequence[BriefMetric],
        updates: Sequence[CampaignUpdate],
    ) -> Recommendations:
        if not request.include_recommendations:
            return Recommendations()
        return await ask_for_recommendations(
            self._agent,
            tenant_id=request.tenant_id,
            to=to,
            participant=self._sender.participant(to),
            day=day,
            analytics=analytics,
            updates=updates,
            config=self._config,
            clock=self._clock,
        )

    def _variables(
        self,
        request: DailyBriefRequest,
        day: date,
        analytics: Sequence[BriefMetric],
        updates: Sequence[CampaignUpdate],
        advice: Recommendations,
    ) -> JsonObject:
        return {
            "recipient_name": request.recipient_name or "there",
            "brief_date": day.isoformat(),
            "analytics": [metric.model_dump(mode="json") for metric in analytics],
            "campaign_updates": [update.model_dump(mode="json") for update in updates],
            "recommendations": list(advice.items),
            "notes": list(advice.notes),
            "dashboard_url": self._config.dashboard_url,
        }


def _sections(request: DailyBriefRequest, advice: Recommendations) -> tuple[str, ...]:
    chosen = (
        ("analytics", request.include_analytics),
        ("campaign_updates", request.include_campaign_updates),
        ("recommendations", request.include_recommendations and bool(advice.items)),
    )
    return tuple(name for name, included in chosen if included)


def _event_data(
    template: str,
    request: DailyBriefRequest,
    day: date,
    sections: tuple[str, ...],
    advice: Recommendations,
) -> JsonObject:
    data: JsonObject = {
        "template": template,
        "user_id": request.user_id,
        "brief_date": day.isoformat(),
        "sections": list(sections),
    }
    if advice.failure is not None:
        data["recommendations_failure"] = advice.failure
    return data
