"""What the review queue shows and what a decision returns: anonymised read models."""

from __future__ import annotations

from datetime import datetime

from pydantic import computed_field

from walker_channels.models import (
    Approval,
    ApprovalStatus,
    Channel,
    EscalationReason,
    RiskLevel,
    SlaStatus,
)
from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.ids import conversation_id_for
from walker_channels.privacy import preview, redact
from walker_channels.services.config import ServiceConfig
from walker_channels.services.sending import SendReceipt
from walker_channels.timing import sla_status


class ReviewItem(Frozen):
    """One pending draft as a reviewer sees it: pseudonym and preview, never the address."""

    approval_id: str
    tenant_id: str
    channel: Channel
    participant: str
    """The person's keyed pseudonym."""
    agent_type: str
    preview: str
    """The start of the proposed text, with phone numbers and email addresses redacted."""
    confidence: float | None
    risk_level: RiskLevel
    reason: EscalationReason
    created_at: AwareDatetime
    expires_at: AwareDatetime | None
    age_seconds: float
    sla_status: SlaStatus
    stale: bool
    """The person wrote again after the draft was made: approving needs ``override_stale``."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def conversation_id(self) -> str:
        """The conversation the draft answers (as in handoff and the log)."""
        return conversation_id_for(self.tenant_id, self.channel, self.participant)


class ReviewDraft(ReviewItem):
    """One pending draft in full, for a reviewer to read and edit before deciding."""

    text: str
    """The whole proposed text, with phone numbers and email addresses redacted."""
    redacted: bool
    """Whether ``text`` differs from what approving unedited sends (something was redacted)."""


class ReviewOutcome(Frozen):
    """A decision's result: the approval's new status and, if a message went out, its receipt."""

    approval_id: str
    status: ApprovalStatus
    receipt: SendReceipt | None = None


def review_item(
    approval: Approval, last_inbound: datetime | None, *, now: datetime, config: ServiceConfig
) -> ReviewItem:
    """The queue row of ``approval``, given when the person last wrote and the time now."""
    return ReviewItem(
        approval_id=approval.id,
        tenant_id=approval.tenant_id,
        channel=approval.channel,
        participant=approval.participant,
        agent_type=approval.agent_type,
        preview=preview(approval.proposed_text, config.preview_length),
        confidence=approval.confidence,
        risk_level=approval.risk_level,
        reason=approval.reason,
        created_at=approval.created_at,
        expires_at=approval.expires_at,
        age_seconds=max((now - approval.created_at).total_seconds(), 0.0),
        sla_status=sla_status(approval.created_at, now, config.review_sla),
        stale=is_stale(approval, last_inbound),
    )


def review_draft(
    approval: Approval, last_inbound: datetime | None, *, now: datetime, config: ServiceConfig
) -> ReviewDraft:
    """The full view of ``approval`` (its queue row and its redacted text)."""
    item = review_item(approval, last_inbound, now=now, config=config)
    text = redact(approval.proposed_text)
    return ReviewDraft(**dict(item), text=text, redacted=text != approval.proposed_text)


def is_stale(approval: Approval, last_inbound: datetime | None) -> bool:
    """Whether the person wrote again (at ``last_inbound``) after the draft was made."""
    return last_inbound is not None and last_inbound > approval.created_at
