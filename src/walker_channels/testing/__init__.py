"""The test kit: fakes for every port, an in-memory store set, one simulated Twilio, a Twilio
request signer, and contract suites.

The simulated Twilio (:class:`SimulatedTwilio`) answers like the Messages API; the demo mounts
it, and :class:`TwilioLikeServer` serves it on loopback over real HTTP with scripted faults.
The contract suites live in :mod:`walker_channels.testing.contracts` (they import pytest).
"""

from __future__ import annotations

from walker_channels.testing.conversations import InMemoryConversationStore
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
from walker_channels.testing.monitoring import InMemoryMonitoringReader
from walker_channels.testing.privacy import InMemoryPrivacyStore
from walker_channels.testing.signer import TwilioSigner, with_body_hash
from walker_channels.testing.simulated_twilio import (
    SimulatedAnswer,
    SimulatedMessage,
    SimulatedTwilio,
)
from walker_channels.testing.stores import InMemoryStores
from walker_channels.testing.twilio_server import TwilioLikeServer

__all__ = [
    "FixedClock",
    "InMemoryApprovalStore",
    "InMemoryBriefScheduleStore",
    "InMemoryConversationStore",
    "InMemoryEventStore",
    "InMemoryInboundQueue",
    "InMemoryMonitoringReader",
    "InMemoryOutboundLedger",
    "InMemoryPrivacyStore",
    "InMemoryStores",
    "InMemoryTenantResolver",
    "RecordingEvents",
    "RecordingTransport",
    "ScriptStep",
    "ScriptedAgent",
    "SimulatedAnswer",
    "SimulatedMessage",
    "SimulatedTwilio",
    "TwilioLikeServer",
    "TwilioSigner",
    "in_scope",
    "with_body_hash",
]
