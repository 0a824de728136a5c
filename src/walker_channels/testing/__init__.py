"""The test kit: fakes for every port, a Twilio request signer, and contract suites.

The contract suites live in :mod:`walker_channels.testing.contracts` (they import pytest).
"""

from __future__ import annotations

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
from walker_channels.testing.monitoring import InMemoryMonitoringReader
from walker_channels.testing.signer import TwilioSigner, with_body_hash
from walker_channels.testing.simulated_twilio import (
    SimulatedAnswer,
    SimulatedMessage,
    SimulatedTwilio,
)

__all__ = [
    "FixedClock",
    "InMemoryApprovalStore",
    "InMemoryBriefScheduleStore",
    "InMemoryEventStore",
    "InMemoryInboundQueue",
    "InMemoryMonitoringReader",
    "InMemoryOutboundLedger",
    "InMemoryTenantResolver",
    "RecordingTransport",
    "ScriptStep",
    "ScriptedAgent",
    "SimulatedAnswer",
    "SimulatedMessage",
    "SimulatedTwilio",
    "TwilioSigner",
    "in_scope",
    "with_body_hash",
]
