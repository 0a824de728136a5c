"""Flows over the ports: inbound conversation, sending on every channel, human review, delivery.

Each service takes its ports and a :class:`ServiceConfig` as keyword arguments; the host's
composition root builds them once at start-up::

    sender = OutboundSender(transports={Channel.WHATSAPP: twilio, Channel.EMAIL: smtp},
                            ledger=ledger, clock=clock, config=config)
    flow = ConversationService(config=config, tenants=tenants, events=events, queue=queue,
                               agent=agent, approvals=approvals, sender=sender, clock=clock,
                               conversations=conversations)
"""

from __future__ import annotations

from walker_channels.services.config import (
    DEFAULT_HOLDING_MESSAGE,
    ExpiryPolicy,
    SentimentAction,
    ServiceConfig,
)
from walker_channels.services.consent import ConsentService
from walker_channels.services.conversation import ConversationService
from walker_channels.services.delivery import DeliveryTracker
from walker_channels.services.handoff import IDLE_RELEASER, HandoffService
from walker_channels.services.hooks import IgnoredEvents
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.outcomes import (
    AcceptOutcome,
    AcceptResult,
    Handled,
    ProcessOutcome,
)
from walker_channels.services.privacy import PrivacyService
from walker_channels.services.proactive import ProactiveSender
from walker_channels.services.review import EXPIRY_REVIEWER, ReviewService
from walker_channels.services.review_items import ReviewDraft, ReviewItem, ReviewOutcome
from walker_channels.services.send_policy import SendRecoveryPolicy
from walker_channels.services.sending import SendContext, SendPurpose, SendReceipt
from walker_channels.services.sentiment import SENTIMENT_HANDOFF_BY
from walker_channels.services.transcripts import ConversationDetail, TranscriptEntry
from walker_channels.services.unsettled import UnsettledSend

__all__ = [
    "DEFAULT_HOLDING_MESSAGE",
    "EXPIRY_REVIEWER",
    "IDLE_RELEASER",
    "SENTIMENT_HANDOFF_BY",
    "AcceptOutcome",
    "AcceptResult",
    "ConsentService",
    "ConversationDetail",
    "ConversationService",
    "DeliveryTracker",
    "ExpiryPolicy",
    "Handled",
    "HandoffService",
    "IgnoredEvents",
    "OutboundSender",
    "PrivacyService",
    "ProactiveSender",
    "ProcessOutcome",
    "ReviewDraft",
    "ReviewItem",
    "ReviewOutcome",
    "ReviewService",
    "SendContext",
    "SendPurpose",
    "SendReceipt",
    "SendRecoveryPolicy",
    "SentimentAction",
    "ServiceConfig",
    "TranscriptEntry",
    "UnsettledSend",
]
