"""Conversation events: the audit log every flow writes and the admin views read."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal
from uuid import uuid4

from pydantic import Field, TypeAdapter

from walker_channels.models.approvals import EscalationReason, RiskLevel
from walker_channels.models.base import AwareDatetime, Frozen, JsonObject
from walker_channels.models.consent import ConsentSource
from walker_channels.models.messages import Channel, DeliveryStatus


class EventType(StrEnum):
    """The kinds of conversation event."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    OUTBOUND_FAILED = "outbound_failed"
    ESCALATED = "escalated"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    DELIVERY_STATUS = "delivery_status"
    HANDOFF_STARTED = "handoff_started"
    HUMAN_REPLY = "human_reply"
    HANDOFF_ENDED = "handoff_ended"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"


class Direction(StrEnum):
    """Which way an event's message went; ``internal`` for decisions and status changes."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


def _new_id() -> str:
    return uuid4().hex


class _Event(Frozen):
    id: str = Field(default_factory=_new_id)
    tenant_id: str | None
    """``None`` only for inbound messages to a number no tenant owns."""
    channel: Channel
    participant: str
    """The person's keyed pseudonym, never the raw address."""
    occurred_at: AwareDatetime
    idempotency_key: str | None = None
    """Unique across the store when set: appending it twice is a no-op."""
    session_id: str | None = None
    provider_message_id: str | None = None
    data: JsonObject = Field(default_factory=dict)

    direction: ClassVar[Direction] = Direction.INTERNAL
    """Inbound, outbound or internal: fixed by the event type."""


class InboundEvent(_Event):
    """A person wrote to us."""

    type: Literal[EventType.INBOUND] = EventType.INBOUND
    direction: ClassVar[Direction] = Direction.INBOUND
    text: str = ""
    media_count: int = Field(default=0, ge=0)
    sentiment: float | None = Field(default=None, ge=-1.0, le=1.0)
    """How the text reads, from -1 (upset) to 1 (happy); ``None`` without a scorer or text."""


class _AgentOutcome(_Event):
    agent_id: str | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    response_time_ms: float | None = Field(default=None, ge=0.0)


class OutboundEvent(_AgentOutcome):
    """A message went out (``hitl`` when a human approved it)."""

    type: Literal[EventType.OUTBOUND] = EventType.OUTBOUND
    direction: ClassVar[Direction] = Direction.OUTBOUND
    text: str = ""
    hitl: bool = False


class OutboundFailedEvent(_AgentOutcome):
    """Sending a message failed; ``outcome_unknown`` when it may still have been delivered."""

    type: Literal[EventType.OUTBOUND_FAILED] = EventType.OUTBOUND_FAILED
    direction: ClassVar[Direction] = Direction.OUTBOUND
    text: str = ""
    hitl: bool = False
    error_code: str | None = None
    error_message: str = ""
    retryable: bool = False
    outcome_unknown: bool = False


class EscalatedEvent(_AgentOutcome):
    """The agent's draft went to human review instead of to the person."""

    type: Literal[EventType.ESCALATED] = EventType.ESCALATED
    approval_id: str
    reason: EscalationReason
    risk_level: RiskLevel


class ApprovedEvent(_Event):
    """A reviewer approved a draft (``edited`` when they changed its text)."""

    type: Literal[EventType.APPROVED] = EventType.APPROVED
    approval_id: str
    decided_by: str
    edited: bool = False


class RejectedEvent(_Event):
    """A reviewer rejected a draft."""

    type: Literal[EventType.REJECTED] = EventType.REJECTED
    approval_id: str
    decided_by: str


class ExpiredEvent(_Event):
    """A draft stayed pending past its deadline."""

    type: Literal[EventType.EXPIRED] = EventType.EXPIRED
    approval_id: str


class DeliveryStatusEvent(_Event):
    """The provider reported a new delivery status for an outbound message."""

    type: Literal[EventType.DELIVERY_STATUS] = EventType.DELIVERY_STATUS
    status: DeliveryStatus
    error_code: str | None = None


class _HandoffEvent(_Event):
    conversation_id: str
    agent_id: str | None = None
    """The agent the conversation was taken from (it asked, or it serves the tenant)."""


class HandoffStartedEvent(_HandoffEvent):
    """A human took the conversation over; ``by`` is a user id, ``person`` or ``agent``."""

    type: Literal[EventType.HANDOFF_STARTED] = EventType.HANDOFF_STARTED
    by: str
    reason: str
    """``takeover``, ``keyword``, ``agent_request`` or an escalation reason."""


class HumanReplyEvent(_HandoffEvent):
    """A human answered in a conversation they took over (the send has its own event)."""

    type: Literal[EventType.HUMAN_REPLY] = EventType.HUMAN_REPLY
    direction: ClassVar[Direction] = Direction.OUTBOUND
    by: str
    send_key: str
    state: str
    """The send's ledger state when it returned: ``sent``, ``failed`` or ``unknown``."""


class HandoffEndedEvent(_HandoffEvent):
    """The conversation went back to the agent; ``by`` is a user id or ``system:idle``."""

    type: Literal[EventType.HANDOFF_ENDED] = EventType.HANDOFF_ENDED
    by: str


class OptedOutEvent(_Event):
    """The person opted out of the tenant's messages on this channel (``source`` says how)."""

    type: Literal[EventType.OPTED_OUT] = EventType.OPTED_OUT
    source: ConsentSource


class OptedInEvent(_Event):
    """The person's opt-out was lifted (a START-style keyword, or an operator)."""

    type: Literal[EventType.OPTED_IN] = EventType.OPTED_IN
    source: ConsentSource
    by: str | None = None
    """The operator who lifted it (``source`` ``admin``)."""


ConversationEvent = Annotated[
    InboundEvent
    | OutboundEvent
    | OutboundFailedEvent
    | EscalatedEvent
    | ApprovedEvent
    | RejectedEvent
    | ExpiredEvent
    | DeliveryStatusEvent
    | HandoffStartedEvent
    | HumanReplyEvent
    | HandoffEndedEvent
    | OptedOutEvent
    | OptedInEvent,
    Field(discriminator="type"),
]
"""Any conversation event, discriminated by ``type``."""

EVENT_ADAPTER: TypeAdapter[ConversationEvent] = TypeAdapter(ConversationEvent)
"""Validates and serialises any :data:`ConversationEvent` (stores use it to round-trip rows)."""
