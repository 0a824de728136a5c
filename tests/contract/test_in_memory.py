"""The in-memory fakes pass every contract suite they implement."""

from __future__ import annotations

import pytest

from walker_channels.models import Address, AgentReply, Channel, OutboundMessage
from walker_channels.testing import (
    InMemoryApprovalStore,
    InMemoryBriefScheduleStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
    RecordingTransport,
    ScriptedAgent,
)
from walker_channels.testing.contracts import (
    AgentRunnerContract,
    ApprovalStoreContract,
    BriefScheduleStoreContract,
    EventStoreContract,
    InboundQueueContract,
    MessageTransportContract,
    OutboundLedgerContract,
    TenantResolverContract,
)


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def event_store(self) -> InMemoryEventStore:
        return InMemoryEventStore()


class TestInMemoryInboundQueue(InboundQueueContract):
    @pytest.fixture
    def inbound_queue(self) -> InMemoryInboundQueue:
        return InMemoryInboundQueue()


class TestInMemoryApprovalStore(ApprovalStoreContract):
    @pytest.fixture
    def approval_store(self) -> InMemoryApprovalStore:
        return InMemoryApprovalStore()


class TestInMemoryTenantResolver(TenantResolverContract):
    @pytest.fixture
    def tenant_resolver(self) -> InMemoryTenantResolver:
        return InMemoryTenantResolver({self.KNOWN.value: self.TENANT})


class TestInMemoryOutboundLedger(OutboundLedgerContract):
    @pytest.fixture
    def outbound_ledger(self) -> InMemoryOutboundLedger:
        return InMemoryOutboundLedger()


class TestInMemoryBriefScheduleStore(BriefScheduleStoreContract):
    @pytest.fixture
    def brief_schedule_store(self) -> InMemoryBriefScheduleStore:
        return InMemoryBriefScheduleStore()


class TestRecordingTransport(MessageTransportContract):
    @pytest.fixture
    def transport(self) -> RecordingTransport:
        return RecordingTransport(Channel.SMS)

    @pytest.fixture
    def message(self) -> OutboundMessage:
        to = Address(channel=Channel.SMS, value="+14155552671")
        return OutboundMessage(channel=Channel.SMS, to=to, text="hello")


class TestScriptedAgent(AgentRunnerContract):
    @pytest.fixture
    def agent_runner(self) -> ScriptedAgent:
        return ScriptedAgent(default=AgentReply(text="hi", confidence=0.9, agent_id="echo"))
