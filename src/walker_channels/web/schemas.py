"""HTTP request and response bodies that are not domain models of their own.

Where a service already has a request or result model (email sends, daily briefs, review
outcomes, monitoring reads) the endpoints use it as it is; these cover the rest. Every model
here is anonymised: no field can carry a raw phone number or email address out.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from walker_channels.models import (
    AgentAnalytics,
    Channel,
    Direction,
    Media,
    RequestDatetime,
    WhatsAppTemplate,
)
from walker_channels.models.base import Frozen
from walker_channels.phones import WHATSAPP_PREFIX
from walker_channels.services import ReviewItem, UnsettledSend


class ValidationIssue(BaseModel):
    """One field that failed validation (the value itself is never echoed)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: ``detail`` is a sentence, or the list of invalid fields (422)."""

    detail: str | list[ValidationIssue]


class MessageContent(Frozen):
    """What a message a person sends carries: free text and/or one media URL, or a template."""

    text: str | None = Field(default=None, min_length=1, max_length=1600)
    media_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")
    template: WhatsAppTemplate | None = None
    idempotency_key: str = Field(
        default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=200
    )
    """Repeat a request with the same key and nothing is sent twice (a fresh key by default)."""

    @model_validator(mode="after")
    def _one_kind_of_content(self) -> Self:
        free = self.text is not None or self.media_url is not None
        if free == (self.template is not None):
            raise ValueError("give text and/or media_url, or a template (not both, not neither)")
        return self

    def media(self) -> tuple[Media, ...]:
        """The media attachment, if any."""
        return () if self.media_url is None else (Media(url=self.media_url),)


class SendMessageRequest(MessageContent):
    """A proactive message: free text and/or one media URL, or an approved template.

    Free text and media need the person to have written within the channel's service window
    (Meta's WhatsApp: 24 hours; Telegram: none).
    """

    tenant_id: str = Field(min_length=1, max_length=200)
    to: str = Field(
        min_length=1, max_length=64, repr=False, examples=["+14155552671", "7000000001"]
    )
    """The person's address on the channel, as its address rule takes it (WhatsApp: E.164;
    Telegram: a chat id, or a public channel's @username)."""


class SendWhatsAppRequest(SendMessageRequest):
    """A proactive WhatsApp message: free text and/or one media URL, or an approved template.

    Free text and media need the person to have written in the last 24 hours.
    """

    to: str = Field(min_length=1, max_length=64, repr=False, examples=["+14155552671"])
    """The person's number in E.164 (a ``whatsapp:`` prefix is accepted)."""


class SendSmsRequest(SendMessageRequest):
    """A proactive SMS (or MMS, with a media URL), or a content template sent as SMS."""

    to: str = Field(min_length=1, max_length=64, repr=False, examples=["+14155552671"])
    """The person's number in E.164 (no ``whatsapp:`` prefix: this is an SMS)."""

    @field_validator("to")
    @classmethod
    def _not_whatsapp(cls, value: str) -> str:
        if value.strip().lower().startswith(WHATSAPP_PREFIX):
            raise ValueError("an SMS goes to a phone number: drop the whatsapp: prefix")
        return value


class LogParams(Frozen):
    """Filters and paging of the conversation log (newest first)."""

    channel: Channel = Channel.WHATSAPP
    """Which channel's log: WhatsApp unless given (``?channel=sms``, ``?channel=email``)."""
    start: RequestDatetime | None = None
    end: RequestDatetime | None = None
    """Exclusive upper bound."""
    tenant_id: str | None = Field(default=None, min_length=1, max_length=200)
    direction: Direction | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, min_length=1, max_length=500)
    """The ``next_cursor`` of the previous page."""


DEFAULT_STATS_RANGE = timedelta(days=30)
"""How far back statistics and analytics look when the caller gives no ``start``."""


class StatsParams(Frozen):
    """Time range and filters for statistics and per-agent analytics."""

    start: RequestDatetime | None = None
    """Inclusive; without it, :data:`DEFAULT_STATS_RANGE` before ``end`` (or now). Aggregates
    over a whole long history read every event; ask for them with an early ``start``."""
    end: RequestDatetime | None = None
    """Exclusive upper bound."""
    tenant_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Channel | None = None


class QueueParams(Frozen):
    """Which part of the review queue to show."""

    tenant_id: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    """At most a million: larger offsets overflow SQL integers (and no queue is that long)."""


class AgentAnalyticsList(Frozen):
    """Per-agent analytics, busiest agent first."""

    agents: tuple[AgentAnalytics, ...]


class ReviewQueue(Frozen):
    """Pending drafts, oldest first, anonymised; and approved drafts whose send failed."""

    items: tuple[ReviewItem, ...]
    send_failed: tuple[UnsettledSend, ...] = ()
    """Approved, send failed: approved drafts whose send failed or stayed unknown (resend them
    with ``POST .../hitl/{approval_id}/resend``)."""


class UnsettledSends(Frozen):
    """Sends that did not settle as sent, oldest first, anonymised."""

    items: tuple[UnsettledSend, ...]


class ApproveRequest(Frozen):
    """Approve a draft as it is, or with ``text`` edited by the reviewer."""

    text: str | None = Field(default=None, min_length=1, max_length=1600)
    override_stale: bool = False
    """Send even though the person wrote again since the draft was made."""


class RejectRequest(Frozen):
    """Reject a draft; ``fallback_text`` is sent to the person when given."""

    fallback_text: str | None = Field(default=None, min_length=1, max_length=1600)


class TwilioMessageForm(BaseModel):
    """The main fields of Twilio's inbound message webhook (every field is signed and kept)."""

    model_config = ConfigDict(extra="allow")

    MessageSid: str
    AccountSid: str | None = None
    From: str
    To: str
    Body: str = ""
    NumMedia: str | None = None
    ProfileName: str | None = None
    WaId: str | None = None


class TwilioStatusForm(BaseModel):
    """The main fields of Twilio's delivery status callback."""

    model_config = ConfigDict(extra="allow")

    MessageSid: str
    MessageStatus: str
    ErrorCode: str | None = None
    AccountSid: str | None = None
