"""The in-memory fakes pass every contract suite they implement."""

from __future__ import annotations

import pytest

from walker_channels.models import Address, AgentReply, Channel, OutboundMessage
from walker_channels.ports import EventStore
from walker_channels.testing import (
    InMemoryApprovalStore,
    InMemoryBriefScheduleStore,
    InMemoryConversationStore,
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
    ConversationStoreContract,
    EventStoreContract,
    InboundQueueContract,
    MessageTransportContract,
    OutboundLedgerContract,
    TenantRegistryContract,
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
        # As Twilio writes To: "whatsapp:+E164" is the WhatsApp number, "+E164" the SMS one.
        owners = {f"whatsapp:{self.KNOWN.value}": self.TENANT, self.KNOWN.value: self.SMS_TENANT}
        return InMemoryTenantResolver(owners)


class TestInMemoryTenantRegistry(TenantRegistryContract):
    @pytest.fixture
    def tenant_registry(self) -> InMemoryTenantResolver:
        return InMemoryTenantResolver()


class TestInMemoryOutboundLedger(OutboundLedgerContract):
    @pytest.fixture
    def outbound_ledger(self) -> InMemoryOutboundLedger:
        return InMemoryOutboundLedger()

    @pytest.fixture
    def ledger_events(self, outbound_ledger: InMemoryOutboundLedger) -> InMemoryEventStore:
        return outbound_ledger.events


class TestInMemoryBriefScheduleStore(BriefScheduleStoreContract):
    @pytest.fixture
    def brief_schedule_store(self) -> InMemoryBriefScheduleStore:
        return InMemoryBriefScheduleStore()


class TestInMemoryConversationStore(ConversationStoreContract):
    @pytest.fixture
    def conversation_store(self) -> InMemoryConversationStore:
        return InMemoryConversationStore()

    @pytest.fixture
    def conversation_events(self, conversation_store: InMemoryConversationStore) -> EventStore:
        return conversation_store.events


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
