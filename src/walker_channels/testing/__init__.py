"""The test kit: fakes for every port, an in-memory store set, one simulated Twilio, a Twilio
request signer, a loopback Graph API (:class:`GraphLikeServer`) and Meta's webhook signer, a
loopback Telegram Bot API (:class:`TelegramLikeServer`), and contract suites.

The simulated Twilio (:class:`SimulatedTwilio`) answers like the Messages API; the demo mounts
it, and :class:`TwilioLikeServer` serves it on loopback over real HTTP with scripted faults.
The contract suites live in :mod:`walker_channels.testing.contracts` (they import pytest).
"""

from __future__ import annotations

from walker_channels.testing.consent import InMemoryConsentStore, InMemoryTenantSettingsStore
from walker_channels.testing.conversations import InMemoryConversationStore
from walker_channels.testing.dispatch import RecordingDispatcher
from walker_channels.testing.fakes import (
    FixedClock,
    InMemoryApprovalStore,
    InMemoryBriefScheduleStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
    RecordingTransport,
    ScriptedAgent,
    ScriptStep,
    in_scope,
)
from walker_channels.testing.hooks import RecordingEvents
from walker_channels.testing.meta_server import GraphLikeServer
from walker_channels.testing.monitoring import InMemoryMonitoringReader
from walker_channels.testing.privacy import InMemoryPrivacyStore
from walker_channels.testing.sentiment import ScriptedScorer
from walker_channels.testing.signer import TwilioSigner, meta_webhook_headers, with_body_hash
from walker_channels.testing.simulated_twilio import (
    SimulatedAnswer,
    SimulatedMessage,
    SimulatedTwilio,
)
from walker_channels.testing.stores import InMemoryStores
from walker_channels.testing.telegram_server import TelegramLikeServer
from walker_channels.testing.twilio_server import TwilioLikeServer

__all__ = [
    "FixedClock",
    "GraphLikeServer",
    "InMemoryApprovalStore",
    "InMemoryBriefScheduleStore",
    "InMemoryConsentStore",
    "InMemoryConversationStore",
    "InMemoryEventStore",
    "InMemoryInboundQueue",
    "InMemoryMonitoringReader",
    "InMemoryOutboundLedger",
    "InMemoryPrivacyStore",
    "InMemoryStores",
    "InMemoryTenantResolver",
    "InMemoryTenantSettingsStore",
    "RecordingDispatcher",
    "RecordingEvents",
    "RecordingTransport",
    "ScriptStep",
    "ScriptedAgent",
    "ScriptedScorer",
    "SimulatedAnswer",
    "SimulatedMessage",
    "SimulatedTwilio",
    "TelegramLikeServer",
    "TwilioLikeServer",
    "TwilioSigner",
    "in_scope",
    "meta_webhook_headers",
    "with_body_hash",
]
