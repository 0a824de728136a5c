"""The domain model: frozen pydantic models and typed enums."""

from __future__ import annotations

from walker_channels.models.agents import AgentReply, AgentRequest
from walker_channels.models.approvals import (
    Approval,
    ApprovalStatus,
    Decision,
    EscalationReason,
    RiskLevel,
    SlaStatus,
)
from walker_channels.models.auth import Principal
from walker_channels.models.base import AwareDatetime, JsonObject
from walker_channels.models.briefs import BriefMetric, CampaignUpdate
from walker_channels.models.events import (
    EVENT_ADAPTER,
    ApprovedEvent,
    ConversationEvent,
    DeliveryStatusEvent,
    Direction,
    EscalatedEvent,
    EventType,
    ExpiredEvent,
    InboundEvent,
    OutboundEvent,
    OutboundFailedEvent,
    RejectedEvent,
)
from walker_channels.models.inbox import QueuedInbound, SessionMark
from walker_channels.models.messages import (
    Address,
    Channel,
    DeliveryStatus,
    DeliveryUpdate,
    EmailAttachment,
    EmailContent,
    InboundMessage,
    Media,
    OutboundMessage,
    SendResult,
    WhatsAppTemplate,
)
from walker_channels.models.monitoring import (
    AgentAnalytics,
    AgentCount,
    ConfidenceBucket,
    ConversationStats,
    LogEntry,
    LogQuery,
    Page,
    Scope,
    StatsQuery,
)
from walker_channels.models.outbound import OutboundRecord, OutboundState
from walker_channels.models.schedules import BriefRunState, BriefSchedule

__all__ = [
    "EVENT_ADAPTER",
    "Address",
    "AgentAnalytics",
    "AgentCount",
    "AgentReply",
    "AgentRequest",
    "Approval",
    "ApprovalStatus",
    "ApprovedEvent",
    "AwareDatetime",
    "BriefMetric",
    "BriefRunState",
    "BriefSchedule",
    "CampaignUpdate",
    "Channel",
    "ConfidenceBucket",
    "ConversationEvent",
    "ConversationStats",
    "Decision",
    "DeliveryStatus",
    "DeliveryStatusEvent",
    "DeliveryUpdate",
    "Direction",
    "EmailAttachment",
    "EmailContent",
    "EscalatedEvent",
    "EscalationReason",
    "EventType",
    "ExpiredEvent",
    "InboundEvent",
    "InboundMessage",
    "JsonObject",
    "LogEntry",
    "LogQuery",
    "Media",
    "OutboundEvent",
    "OutboundFailedEvent",
    "OutboundMessage",
    "OutboundRecord",
    "OutboundState",
    "Page",
    "Principal",
    "QueuedInbound",
    "RejectedEvent",
    "RiskLevel",
    "Scope",
    "SendResult",
    "SessionMark",
    "SlaStatus",
    "StatsQuery",
    "WhatsAppTemplate",
]
