"""Contract test suites: behaviour every implementation of a port must have.

Subclass a suite in your own tests and provide its fixture; every test is inherited::

    from walker_channels.testing.contracts import EventStoreContract

    class TestMyEventStore(EventStoreContract):
        @pytest.fixture
        async def event_store(self) -> MyEventStore:
            return MyEventStore(...)

One module per port; the builders (``inbound``, ``approval``, ...) make the data the suites
store, and are here for your own tests too. The suites are async tests run by the anyio pytest
plugin (installed with httpx) on asyncio.
"""

from __future__ import annotations

from walker_channels.testing.contracts.accepts import AcceptStoreContract, AcceptWorld
from walker_channels.testing.contracts.agents import AgentRunnerContract
from walker_channels.testing.contracts.approvals import ApprovalStoreContract, approval
from walker_channels.testing.contracts.common import ALL, T0, scoped
from walker_channels.testing.contracts.consent import (
    ConsentStoreContract,
    TenantSettingsStoreContract,
    opt_out,
)
from walker_channels.testing.contracts.conversations import (
    ConversationStoreContract,
    conversation,
)
from walker_channels.testing.contracts.events import EventStoreContract, inbound
from walker_channels.testing.contracts.inbox import InboundQueueContract, queued
from walker_channels.testing.contracts.ledger import OutboundLedgerContract, outbound_record
from walker_channels.testing.contracts.monitoring import (
    MonitoringPair,
    MonitoringReaderContract,
    agent_outcome,
)
from walker_channels.testing.contracts.privacy import (
    PrivacyStoreContract,
    PrivacyWorld,
    erasure,
)
from walker_channels.testing.contracts.schedules import (
    DAY,
    LEASE,
    LONG_AFTER,
    BriefScheduleStoreContract,
    brief_schedule,
)
from walker_channels.testing.contracts.sentiment import (
    SentimentAveragesContract,
    SentimentScorerContract,
)
from walker_channels.testing.contracts.tenants import (
    TenantRegistryContract,
    TenantResolverContract,
)
from walker_channels.testing.contracts.transport import MessageTransportContract
from walker_channels.testing.contracts.turns import (
    SettlingTurnStoreContract,
    TurnStoreContract,
    TurnWorld,
)

__all__ = [
    "ALL",
    "DAY",
    "LEASE",
    "LONG_AFTER",
    "T0",
    "AcceptStoreContract",
    "AcceptWorld",
    "AgentRunnerContract",
    "ApprovalStoreContract",
    "BriefScheduleStoreContract",
    "ConsentStoreContract",
    "ConversationStoreContract",
    "EventStoreContract",
    "InboundQueueContract",
    "MessageTransportContract",
    "MonitoringPair",
    "MonitoringReaderContract",
    "OutboundLedgerContract",
    "PrivacyStoreContract",
    "PrivacyWorld",
    "SentimentAveragesContract",
    "SentimentScorerContract",
    "SettlingTurnStoreContract",
    "TenantRegistryContract",
    "TenantResolverContract",
    "TenantSettingsStoreContract",
    "TurnStoreContract",
    "TurnWorld",
    "agent_outcome",
    "approval",
    "brief_schedule",
    "conversation",
    "erasure",
    "inbound",
    "opt_out",
    "outbound_record",
    "queued",
    "scoped",
]
