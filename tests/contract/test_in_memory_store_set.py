"""InMemoryStores is a StoreSet: its members pass the store contracts, and it runs the services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from walker_channels.agents import echo_agent
from walker_channels.app import Settings, StoreSet, build_services
from walker_channels.exceptions import Conflict
from walker_channels.models import Address, Channel
from walker_channels.ports import (
    ApprovalStore,
    BriefScheduleStore,
    EventStore,
    InboundQueue,
    OutboundLedger,
    TenantResolver,
)
from walker_channels.services import AcceptOutcome, ProcessOutcome
from walker_channels.testing import InMemoryStores, RecordingTransport
from walker_channels.testing.contracts import (
    ApprovalStoreContract,
    BriefScheduleStoreContract,
    EventStoreContract,
    InboundQueueContract,
    MonitoringPair,
    MonitoringReaderContract,
    OutboundLedgerContract,
    TenantResolverContract,
)
from walker_channels.twilio import parse_inbound_form

pytestmark = pytest.mark.anyio

TENANT_NUMBER = "+14155550100"
CUSTOMER = "+14155552671"


def test_the_in_memory_set_is_a_store_set_whose_members_stay_the_same() -> None:
    stores: StoreSet = InMemoryStores()  # mypy checks that the set satisfies StoreSet here
    names = ("events", "approvals", "ledger", "inbox", "tenants", "schedules", "monitoring")
    for name in names:
        assert getattr(stores, name) is getattr(stores, name), name


class TestSetEventStore(EventStoreContract):
    @pytest.fixture
    def event_store(self) -> EventStore:
        return InMemoryStores().events


class TestSetApprovalStore(ApprovalStoreContract):
    @pytest.fixture
    def approval_store(self) -> ApprovalStore:
        return InMemoryStores().approvals


class TestSetOutboundLedger(OutboundLedgerContract):
    @pytest.fixture
    def store_set(self) -> InMemoryStores:
        return InMemoryStores()

    @pytest.fixture
    def outbound_ledger(self, store_set: InMemoryStores) -> OutboundLedger:
        return store_set.ledger

    @pytest.fixture
    def ledger_events(self, store_set: InMemoryStores) -> EventStore:
        return store_set.events


class TestSetInboundQueue(InboundQueueContract):
    @pytest.fixture
    def inbound_queue(self) -> InboundQueue:
        return InMemoryStores().inbox


class TestSetBriefScheduleStore(BriefScheduleStoreContract):
    @pytest.fixture
    def brief_schedule_store(self) -> BriefScheduleStore:
        return InMemoryStores().schedules


class TestSetTenantResolver(TenantResolverContract):
    @pytest.fixture
    def tenant_resolver(self) -> TenantResolver:
        stores = InMemoryStores()
        stores.add_number(self.TENANT, self.KNOWN)
        stores.add_number(self.SMS_TENANT, self.KNOWN_SMS)
        return stores.tenants


class TestSetMonitoringReader(MonitoringReaderContract):
    """The set's reader sees what was appended to the set's own event store."""

    @pytest.fixture
    def monitoring(self) -> MonitoringPair:
        stores = InMemoryStores()
        return stores.events, stores.monitoring


async def test_a_number_belongs_to_one_tenant() -> None:
    stores = InMemoryStores()
    stores.add_number("t1", TENANT_NUMBER)
    stores.add_number("t1", TENANT_NUMBER)
    with pytest.raises(Conflict):
        stores.add_number("t2", TENANT_NUMBER)
    stores.add_number("t2", Address(channel=Channel.WHATSAPP, value=TENANT_NUMBER))
    sms = Address(channel=Channel.SMS, value=TENANT_NUMBER)
    assert await stores.tenants.resolve(sms) == "t1"
    assert await stores.tenants.resolve(sms.replace(channel=Channel.WHATSAPP)) == "t2"


async def test_the_services_answer_a_whatsapp_message_over_the_in_memory_set() -> None:
    stores, transport = InMemoryStores(), RecordingTransport()
    services = build_services(
        Settings(walker_pseudonym_key="k", walker_sweep_interval=0),
        stores=stores,
        agent=echo_agent(),
        whatsapp_transport=transport,
    )
    await services.start()
    try:
        stores.add_number("t1", f"whatsapp:{TENANT_NUMBER}")
        form = {
            "MessageSid": "SM" + "a" * 32,
            "From": f"whatsapp:{CUSTOMER}",
            "To": f"whatsapp:{TENANT_NUMBER}",
            "Body": "hello",
        }
        message = parse_inbound_form(form, received_at=datetime.now(UTC))
        assert (await services.conversations.accept(message)).outcome is AcceptOutcome.ACCEPTED
        assert await services.conversations.process(message.provider_message_id) is (
            ProcessOutcome.REPLIED
        )
    finally:
        await services.close()
    (reply,) = transport.sent
    assert (reply.to.value, reply.text) == (CUSTOMER, "Echo: hello")
