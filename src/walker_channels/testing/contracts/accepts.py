"""The :class:`~walker_channels.ports.AcceptStore` contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from walker_channels.models import Address, Channel, InboundEvent, InboundMessage
from walker_channels.ports import (
    AcceptStore,
    ConversationStore,
    EventStore,
    InboundQueue,
    TenantRegistry,
)
from walker_channels.services.intake import MessageArrival
from walker_channels.testing.contracts.common import T0

NUMBER = Address(channel=Channel.WHATSAPP, value="+14155550100")
PERSON = Address(channel=Channel.WHATSAPP, value="+14155552671")
TIMEOUT = timedelta(hours=24)
LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class AcceptWorld:
    """An accept store, a second one on the same data (another process), and the stores it
    writes to, for the suite to look at."""

    accepts: AcceptStore
    other: AcceptStore
    tenants: TenantRegistry
    queue: InboundQueue
    events: EventStore
    conversations: ConversationStore


def arrival(sid: str, *, at: datetime = T0, person: str = "p-1") -> MessageArrival:
    """Message ``sid`` from ``PERSON`` (pseudonym ``person``) to ``NUMBER``, arriving ``at``."""
    message = InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=sid,
        sender=PERSON,
        recipient=NUMBER,
        text="hello",
        received_at=at,
    )
    return MessageArrival(message, person, at, TIMEOUT)


@pytest.mark.anyio
class AcceptStoreContract:
    """Provide ``accept_world``: empty stores in which nobody owns ``NUMBER`` yet."""

    @pytest.fixture
    def accept_world(self) -> AcceptWorld:
        """Override: the stores, empty."""
        raise NotImplementedError

    async def test_an_accepted_message_is_queued_recorded_and_in_its_conversation(
        self, accept_world: AcceptWorld
    ) -> None:
        w = accept_world
        await w.tenants.add_number("t1", NUMBER)
        admitted = await w.accepts.accept(NUMBER, arrival("SM1"))

        assert admitted.tenant_id == "t1"
        assert admitted.arrival is not None
        session = admitted.arrival.item.session_id
        [claimed] = await w.queue.claim(now=T0, lease=LEASE)
        assert (claimed.id, claimed.session_id) == ("SM1", session)
        stored = await w.conversations.get(admitted.arrival.conversation.id)
        assert stored is not None
        assert stored.session_id == session
        mark = await w.events.last_session("t1", Channel.WHATSAPP, "p-1")
        assert mark is not None
        assert mark.session_id == session
        assert admitted.arrival.event.session_id == session

    async def test_a_message_still_queued_is_a_duplicate(self, accept_world: AcceptWorld) -> None:
        w = accept_world
        await w.tenants.add_number("t1", NUMBER)
        await w.accepts.accept(NUMBER, arrival("SM1"))

        again = await w.other.accept(NUMBER, arrival("SM1"))

        assert (again.tenant_id, again.arrival) == ("t1", None)
        assert [i.id for i in await w.queue.claim(now=T0, lease=LEASE, limit=5)] == ["SM1"]

    async def test_a_message_answered_already_is_a_duplicate_and_not_queued_again(
        self, accept_world: AcceptWorld
    ) -> None:
        w = accept_world
        await w.tenants.add_number("t1", NUMBER)
        await w.accepts.accept(NUMBER, arrival("SM1"))
        await w.queue.complete("SM1")

        again = await w.accepts.accept(NUMBER, arrival("SM1"))

        assert again.arrival is None
        assert await w.queue.claim(now=T0, lease=LEASE) == []

    async def test_a_message_to_a_number_nobody_owns_writes_nothing(
        self, accept_world: AcceptWorld
    ) -> None:
        w = accept_world
        admitted = await w.accepts.accept(NUMBER, arrival("SM1"))

        assert admitted.tenant_id is None
        assert await w.queue.claim(now=T0, lease=LEASE) == []
        assert await w.events.last_session("t1", Channel.WHATSAPP, "p-1") is None

    async def test_the_session_is_kept_while_active_and_renewed_after_the_timeout(
        self, accept_world: AcceptWorld
    ) -> None:
        w = accept_world
        await w.tenants.add_number("t1", NUMBER)
        first = await w.accepts.accept(NUMBER, arrival("SM1"))
        soon = await w.accepts.accept(NUMBER, arrival("SM2", at=T0 + timedelta(hours=1)))
        later = await w.accepts.accept(NUMBER, arrival("SM3", at=T0 + timedelta(hours=26)))

        assert first.arrival
        assert soon.arrival
        assert later.arrival
        assert soon.arrival.item.session_id == first.arrival.item.session_id
        assert later.arrival.item.session_id != first.arrival.item.session_id

    async def test_a_conversation_known_only_from_its_events_keeps_its_session(
        self, accept_world: AcceptWorld
    ) -> None:
        w = accept_world
        await w.tenants.add_number("t1", NUMBER)
        old = InboundEvent(
            tenant_id="t1",
            channel=Channel.WHATSAPP,
            participant="p-1",
            occurred_at=T0 - timedelta(hours=1),
            session_id="t1:whatsapp:p-1:old",
        )
        await w.events.append(old)

        admitted = await w.accepts.accept(NUMBER, arrival("SM1"))

        assert admitted.arrival is not None
        assert admitted.arrival.item.session_id == "t1:whatsapp:p-1:old"

    async def test_a_number_moved_to_another_tenant_is_seen_by_the_next_accept_everywhere(
        self, accept_world: AcceptWorld
    ) -> None:
        w = accept_world
        await w.tenants.add_number("t1", NUMBER)
        first = await w.accepts.accept(NUMBER, arrival("SM1"))
        assert first.arrival is not None
        assert first.tenant_id == "t1"
        assert (await w.other.accept(NUMBER, arrival("SM2"))).tenant_id == "t1"

        assert await w.tenants.remove_number(NUMBER)
        assert (await w.other.accept(NUMBER, arrival("SM3"))).tenant_id is None
        await w.tenants.add_number("t2", NUMBER)
        moved = await w.accepts.accept(NUMBER, arrival("SM4"))
        elsewhere = await w.other.accept(NUMBER, arrival("SM5"))

        assert (moved.tenant_id, elsewhere.tenant_id) == ("t2", "t2")
        assert moved.arrival is not None
        assert moved.arrival.item.tenant_id == "t2"
        assert moved.arrival.item.conversation != first.arrival.item.conversation
