"""Approvals: agent drafts waiting for a human decision."""

from __future__ import annotations

from enum import StrEnum
from uuid import uuid4

from pydantic import Field

from walker_channels.models.base import AwareDatetime, Frozen, JsonObject
from walker_channels.models.messages import Address, Channel


class RiskLevel(StrEnum):
    """How risky it would be to send a draft unreviewed."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class EscalationReason(StrEnum):
    """Why a draft went to a human instead of to the person."""

    LOW_CONFIDENCE = "low_confidence"
    MISSING_CONFIDENCE = "missing_confidence"
    AGENT_ERROR = "agent_error"
    AGENT_TIMEOUT = "agent_timeout"
    INVALID_REPLY = "invalid_reply"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    """The person's message scored below the sentiment threshold (``docs/sentiment.md``)."""


class ApprovalStatus(StrEnum):
    """An approval is pending until exactly one decision moves it on."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class SlaStatus(StrEnum):
    """Review-queue SLA state of a pending approval."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


def _new_id() -> str:
    return uuid4().hex


class Approval(Frozen):
    """A proposed action (usually a reply) waiting for a reviewer."""

    id: str = Field(default_factory=_new_id)
    tenant_id: str
    channel: Channel
    participant: str
    """The person's keyed pseudonym (safe to show)."""
    recipient: Address | None = Field(default=None, repr=False)
    """Where the reply goes; never shown in admin output. ``None`` once no send can need it
    (cleared by :meth:`~walker_channels.ports.ApprovalStore.clear_recipient`)."""
    agent_type: str
    action_type: str = "send_reply"
    action_data: JsonObject = Field(default_factory=dict)
    proposed_text: str
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    risk_level: RiskLevel
    reason: EscalationReason
    status: ApprovalStatus = ApprovalStatus.PENDING
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    inbound_message_id: str | None = None
    """The provider id of the message that caused the draft (part of the reply's idempotency)."""
    session_id: str | None = None
    decided_at: AwareDatetime | None = None
    decided_by: str | None = None
    final_text: str | None = None
    """The text actually sent, when a reviewer approved (possibly edited)."""


class Decision(Frozen):
    """A reviewer's decision, applied atomically by :meth:`ApprovalStore.decide`."""

    status: ApprovalStatus
    decided_by: str = Field(min_length=1)
    decided_at: AwareDatetime
    final_text: str | None = None
