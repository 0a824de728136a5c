"""The :class:`~walker_channels.ports.EventStore` contract."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from walker_channels.models import Channel, InboundEvent, OutboundEvent
from walker_channels.ports import EventStore
from walker_channels.testing.contracts.common import T0


def inbound(
    key: str | None, *, tenant: str = "t1", who: str = "p1", at: datetime = T0
) -> InboundEvent:
    """An inbound event for the suites."""
    return InboundEvent(
        tenant_id=tenant,
        channel=Channel.WHATSAPP,
        participant=who,
        occurred_at=at,
        idempotency_key=key,
        text="hello",
    )


@pytest.mark.anyio
class EventStoreContract:
    """Provide an empty store as the ``event_store`` fixture."""

    @pytest.fixture
    def event_store(self) -> EventStore:
        """Override: an empty EventStore."""
        raise NotImplementedError

    async def test_append_reports_a_new_event(self, event_store: EventStore) -> None:
        assert await event_store.append(inbound("k1")) is True

    async def test_a_repeated_idempotency_key_is_refused(self, event_store: EventStore) -> None:
        assert await event_store.append(inbound("k1")) is True
        assert await event_store.append(inbound("k1", at=T0 + timedelta(seconds=1))) is False
        assert await event_store.last_inbound_at("t1", Channel.WHATSAPP, "p1") == T0

    async def test_events_without_a_key_are_always_new(self, event_store: EventStore) -> None:
        assert await event_store.append(inbound(None)) is True
        assert await event_store.append(inbound(None)) is True

    async def test_concurrent_appends_of_one_key_have_one_winner(
        self, event_store: EventStore
    ) -> None:
        results = await asyncio.gather(*(event_store.append(inbound("same")) for _ in range(20)))
        assert results.count(True) == 1

    async def test_last_inbound_is_the_latest_for_that_person(
        self, event_store: EventStore
    ) -> None:
        later = T0 + timedelta(hours=2)
        await event_store.append(inbound("a", at=T0))
        await event_store.append(inbound("b", at=later))
        await event_store.append(inbound("c", who="p2", at=later + timedelta(hours=1)))
        await event_store.append(inbound("d", tenant="t2", at=later + timedelta(hours=1)))
        await event_store.append(
            OutboundEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant="p1",
                occurred_at=later + timedelta(hours=3),
                text="reply",
            )
        )
        assert await event_store.last_inbound_at("t1", Channel.WHATSAPP, "p1") == later
        assert await event_store.last_inbound_at("t1", Channel.SMS, "p1") is None
        assert await event_store.last_inbound_at("t3", Channel.WHATSAPP, "p1") is None

    async def test_last_session_is_the_latest_event_with_a_session(
        self, event_store: EventStore
    ) -> None:
        assert await event_store.last_session("t1", Channel.WHATSAPP, "p1") is None
        first, second = T0, T0 + timedelta(minutes=5)
        await event_store.append(inbound("a", at=first).replace(session_id="s1"))
        await event_store.append(inbound("b", at=second).replace(session_id="s2"))
        await event_store.append(inbound("c", at=second + timedelta(minutes=1)))
        await event_store.append(inbound("d", who="p2", at=second).replace(session_id="other"))
        mark = await event_store.last_session("t1", Channel.WHATSAPP, "p1")
        assert mark is not None
        assert (mark.session_id, mark.last_at) == ("s2", second)
