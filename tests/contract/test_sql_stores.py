"""The SQL stores pass every store contract suite on SQLite (a temp file) and PostgreSQL.

The in-memory monitoring reader runs the monitoring suite too, as the reference.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from walker_channels.exceptions import (
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    StoreError,
)
from walker_channels.models import (
    Address,
    Channel,
    ConversationStats,
    OutboundState,
    Settlement,
    StatsQuery,
)
from walker_channels.ports import (
    ApprovalStore,
    BriefScheduleStore,
    ConversationStore,
    EventStore,
    InboundQueue,
    OutboundLedger,
    TenantRegistry,
    TenantResolver,
)
from walker_channels.sql import SqlStores, create_engine, database_url, metadata
from walker_channels.sql.events import event_from_row
from walker_channels.sql.tables import events
from walker_channels.testing import InMemoryEventStore, InMemoryMonitoringReader
from walker_channels.testing.contracts import (
    T0,
    ApprovalStoreContract,
    BriefScheduleStoreContract,
    ConversationStoreContract,
    EventStoreContract,
    InboundQueueContract,
    MonitoringPair,
    MonitoringReaderContract,
    OutboundLedgerContract,
    TenantRegistryContract,
    TenantResolverContract,
    approval,
    inbound,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def pg_schema(pg_schema: str, postgres_url: str) -> str:
    """The module's schema, with the tables created once."""

    async def create_tables() -> None:
        async with SqlStores.from_url(postgres_url, schema=pg_schema) as stores:
            await stores.create_all()

    asyncio.run(create_tables())
    return pg_schema


@pytest.fixture
async def stores(database: tuple[str, str | None]) -> AsyncIterator[SqlStores]:
    """Empty SQL stores: new tables on SQLite, truncated ones on PostgreSQL."""
    url, schema = database
    sql = SqlStores.from_url(url, schema=schema)
    if schema is None:
        await sql.create_all()
    else:
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        async with sql.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables}"))
    yield sql
    await sql.dispose()


class TestSqlEventStore(EventStoreContract):
    @pytest.fixture
    def event_store(self, stores: SqlStores) -> EventStore:
        return stores.events


class TestSqlApprovalStore(ApprovalStoreContract):
    @pytest.fixture
    def approval_store(self, stores: SqlStores) -> ApprovalStore:
        return stores.approvals


class TestSqlOutboundLedger(OutboundLedgerContract):
    @pytest.fixture
    def outbound_ledger(self, stores: SqlStores) -> OutboundLedger:
        return stores.ledger

    @pytest.fixture
    def ledger_events(self, stores: SqlStores) -> EventStore:
        return stores.events


class TestSqlInboundQueue(InboundQueueContract):
    @pytest.fixture
    def inbound_queue(self, stores: SqlStores) -> InboundQueue:
        return stores.inbox


class TestSqlTenantResolver(TenantResolverContract):
    @pytest.fixture
    async def tenant_resolver(self, stores: SqlStores) -> TenantResolver:
        await stores.tenants.add_number(self.TENANT, self.KNOWN)
        await stores.tenants.add_number(self.SMS_TENANT, self.KNOWN_SMS.value)
        return stores.tenants


class TestSqlTenantRegistry(TenantRegistryContract):
    @pytest.fixture
    def tenant_registry(self, stores: SqlStores) -> TenantRegistry:
        return stores.tenants


class TestSqlConversationStore(ConversationStoreContract):
    @pytest.fixture
    def conversation_store(self, stores: SqlStores) -> ConversationStore:
        return stores.conversations

    @pytest.fixture
    def conversation_events(self, stores: SqlStores) -> EventStore:
        return stores.events


class TestSqlBriefScheduleStore(BriefScheduleStoreContract):
    @pytest.fixture
    def brief_schedule_store(self, stores: SqlStores) -> BriefScheduleStore:
        return stores.schedules


class TestSqlMonitoringReader(MonitoringReaderContract):
    @pytest.fixture
    def monitoring(self, stores: SqlStores) -> MonitoringPair:
        return stores.events, stores.monitoring


class RollingReader:
    """The SQL reader with every closed day rolled up before each stats read: the suite's
    whole-day ranges then come from the rollups, and partial days from the events."""

    def __init__(self, stores: SqlStores) -> None:
        self._stores = stores
        self.logs = stores.monitoring.logs
        self.agent_analytics = stores.monitoring.agent_analytics

    async def stats(self, query: StatsQuery) -> ConversationStats:
        # The suite's events are within a day or two of T0.
        await self._stores.rollups.roll_all(now=T0 + timedelta(days=3))
        return await self._stores.monitoring.stats(query)


class TestSqlMonitoringReaderOverRollups(MonitoringReaderContract):
    @pytest.fixture
    def monitoring(self, stores: SqlStores) -> MonitoringPair:
        return stores.events, RollingReader(stores)


class TestInMemoryMonitoringReader(MonitoringReaderContract):
    @pytest.fixture
    def monitoring(self) -> MonitoringPair:
        events = InMemoryEventStore()
        return events, InMemoryMonitoringReader(events)


async def test_events_read_back_equal_to_what_was_stored(stores: SqlStores) -> None:
    event = inbound("k1").replace(session_id="s1", data={"raw": {"nested": [1, "x"]}})
    await stores.events.append(event)
    async with stores.engine.connect() as conn:
        row = (await conn.execute(select(events))).mappings().one()
    assert event_from_row(row) == event


async def test_a_tenant_owns_several_numbers_each_with_an_optional_user(
    stores: SqlStores,
) -> None:
    whatsapp = Address(channel=Channel.WHATSAPP, value="+14155550100")
    await stores.tenants.add_number("t1", whatsapp)
    await stores.tenants.add_number("t1", "+14155550101", user_id="u1")
    await stores.tenants.add_number("t1", "whatsapp:+1 415 555 0101")
    await stores.tenants.add_number("t2", "ops@example.com")
    listed = await stores.tenants.numbers("t1")
    assert [(n.address, n.channel, n.user_id) for n in listed] == [
        ("+14155550100", Channel.WHATSAPP, None),
        ("+14155550101", Channel.SMS, "u1"),
        ("+14155550101", Channel.WHATSAPP, None),
    ]
    sms = Address(channel=Channel.SMS, value="+14155550101")
    assert await stores.tenants.resolve(sms) == "t1"
    assert await stores.tenants.resolve(whatsapp.replace(channel=Channel.SMS)) is None
    email = Address(channel=Channel.EMAIL, value="ops@example.com")
    assert await stores.tenants.resolve(email) == "t2"


async def test_a_number_belongs_to_one_tenant_per_channel(stores: SqlStores) -> None:
    await stores.tenants.add_number("t1", "whatsapp:+14155550100")
    await stores.tenants.add_number("t2", "+14155550100")
    with pytest.raises(Conflict):
        await stores.tenants.add_number("t2", "whatsapp:+14155550100")
    number = Address(channel=Channel.WHATSAPP, value="+14155550100")
    assert await stores.tenants.resolve(number) == "t1"
    assert await stores.tenants.resolve(number.replace(channel=Channel.SMS)) == "t2"
    assert await stores.tenants.remove_number("+14155550100") is True
    assert await stores.tenants.resolve(number) == "t1"


async def test_an_address_that_is_no_number_is_refused(stores: SqlStores) -> None:
    for address in ("", "not a number", "whatsapp:"):
        with pytest.raises(InvalidInput):
            await stores.tenants.add_number("t1", address)


async def test_a_number_cannot_be_taken_from_another_tenant(stores: SqlStores) -> None:
    await stores.tenants.add_number("t1", "+14155550100")
    with pytest.raises(Conflict):
        await stores.tenants.add_number("t2", "+14155550100")
    await stores.tenants.add_number("t1", "+14155550100", user_id="u9")
    assert [n.user_id for n in await stores.tenants.numbers("t1")] == ["u9"]


async def test_a_removed_number_resolves_to_nobody(stores: SqlStores) -> None:
    number = Address(channel=Channel.WHATSAPP, value="+14155550100")
    await stores.tenants.add_number("t1", number)
    assert await stores.tenants.remove_number(number) is True
    assert await stores.tenants.remove_number(number) is False
    assert await stores.tenants.resolve(number) is None


async def test_settling_an_unreserved_send_is_not_found(stores: SqlStores) -> None:
    with pytest.raises(NotFound):
        await stores.ledger.settle("missing", Settlement(state=OutboundState.SENT, at=T0))


async def test_bulk_append_skips_duplicates(stores: SqlStores) -> None:
    batch = [inbound(f"k{n}") for n in range(5)]
    await stores.events.append_many(batch)
    await stores.events.append_many([*batch[:2], inbound("k9")])
    async with stores.engine.connect() as conn:
        keys = (await conn.execute(select(events.c.idempotency_key))).scalars().all()
    assert sorted(keys) == ["k0", "k1", "k2", "k3", "k4", "k9"]


async def test_creating_an_approval_twice_is_a_conflict(stores: SqlStores) -> None:
    item = approval()
    await stores.approvals.create(item)
    with pytest.raises(Conflict):
        await stores.approvals.create(item)


async def test_database_failures_are_store_errors_without_personal_data(tmp_path: Path) -> None:
    bare = SqlStores.from_url(f"sqlite:///{tmp_path / 'no-tables.db'}")
    secret_text = "call +14155552671"
    try:
        with pytest.raises(StoreError) as caught:
            await bare.events.append(inbound("k1").replace(text=secret_text))
    finally:
        await bare.dispose()
    assert "4155552671" not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///walker.db", "sqlite+aiosqlite"),
        ("postgresql://u@localhost/db", "postgresql+psycopg"),
        ("postgres://u@localhost/db", "postgresql+psycopg"),
        ("postgresql+asyncpg://u@localhost/db", "postgresql+asyncpg"),
    ],
)
def test_plain_urls_get_an_async_driver(given: str, driver: str) -> None:
    assert database_url(given).drivername == driver


@pytest.mark.parametrize(
    "given", ["sqlite://", "sqlite:///:memory:", "postgresql+psycopg2://u@h/db", "mysql://h/db"]
)
def test_unusable_urls_are_refused_with_a_hint(given: str) -> None:
    with pytest.raises(ConfigurationError):
        database_url(given)


def test_a_schema_name_must_be_a_plain_identifier() -> None:
    with pytest.raises(ConfigurationError):
        create_engine("postgresql://u@localhost/db", schema="x; DROP TABLE y")
