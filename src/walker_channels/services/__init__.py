"""Flows over the ports: inbound conversation, sending on every channel, human review, delivery.

Each service takes its ports and a :class:`ServiceConfig` as keyword arguments; the host's
composition root builds them once at start-up::

    sender = OutboundSender(transports={Channel.WHATSAPP: twilio, Channel.EMAIL: smtp},
                            ledger=ledger, events=events, clock=clock, config=config)
    conversations = ConversationService(config=config, tenants=tenants, events=events,
                                        queue=queue, agent=agent, approvals=approvals,
                                        sender=sender, clock=clock)
"""

from __future__ import annotations

from walker_channels.services.config import DEFAULT_HOLDING_MESSAGE, ExpiryPolicy, ServiceConfig
from walker_channels.services.conversation import ConversationService
from walker_channels.services.delivery import DeliveryTracker
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.outcomes import AcceptOutcome, Handled, ProcessOutcome
from walker_channels.services.proactive import ProactiveSender
from walker_channels.services.review import EXPIRY_REVIEWER, ReviewService
from walker_channels.services.review_items import ReviewItem, ReviewOutcome
from walker_channels.services.sending import SendContext, SendPurpose, SendReceipt

__all__ = [
    "DEFAULT_HOLDING_MESSAGE",
    "EXPIRY_REVIEWER",
    "AcceptOutcome",
    "ConversationService",
    "DeliveryTracker",
    "ExpiryPolicy",
    "Handled",
    "OutboundSender",
    "ProactiveSender",
    "ProcessOutcome",
    "ReviewItem",
    "ReviewOutcome",
    "ReviewService",
    "SendContext",
    "SendPurpose",
    "SendReceipt",
    "ServiceConfig",
]
