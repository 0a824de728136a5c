"""The :class:`~walker_channels.ports.InboundQueue` contract."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from walker_channels.models import Address, Channel, InboundMessage, QueuedInbound
from walker_channels.ports import InboundQueue
from walker_channels.testing.contracts.common import T0


def queued(item_id: str, *, at: datetime = T0) -> QueuedInbound:
    """A queue entry for the suites."""
    sender = Address(channel=Channel.WHATSAPP, value="+14155552671")
    recipient = Address(channel=Channel.WHATSAPP, value="+14155550100")
    message = InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=item_id,
        sender=sender,
        recipient=recipient,
        text="hello",
        received_at=at,
        raw={"MessageSid": item_id, "Body": "hello"},
    )
    return QueuedInbound(
        id=item_id, message=message, tenant_id="t1", session_id="s1", enqueued_at=at
    )


@pytest.mark.anyio
class InboundQueueContract:
    """Provide an empty queue as the ``inbound_queue`` fixture."""

    LEASE = timedelta(seconds=60)

    @pytest.fixture
    def inbound_queue(self) -> InboundQueue:
        """Override: an empty InboundQueue."""
        raise NotImplementedError

    async def test_an_entry_round_trips_with_the_raw_address(
        self, inbound_queue: InboundQueue
    ) -> None:
        item = queued("SM1")
        assert await inbound_queue.enqueue(item) is True
        assert await inbound_queue.enqueue(item) is False
        (claimed,) = await inbound_queue.claim(now=T0, lease=self.LEASE)
        assert claimed.message == item.message
        assert claimed.message.sender.value == "+14155552671"
        assert claimed.attempts == 1

    async def test_claims_are_oldest_first_and_leased(self, inbound_queue: InboundQueue) -> None:
        await inbound_queue.enqueue(queued("SM2", at=T0 + timedelta(seconds=1)))
        await inbound_queue.enqueue(queued("SM1", at=T0))
        first = await inbound_queue.claim(now=T0, lease=self.LEASE, limit=5)
        assert [item.id for item in first] == ["SM1", "SM2"]
        assert await inbound_queue.claim(now=T0 + timedelta(seconds=30), lease=self.LEASE) == []
        again = await inbound_queue.claim(now=T0 + self.LEASE, lease=self.LEASE, limit=5)
        assert [(item.id, item.attempts) for item in again] == [("SM1", 2), ("SM2", 2)]

    async def test_a_claim_can_name_its_entry(self, inbound_queue: InboundQueue) -> None:
        await inbound_queue.enqueue(queued("SM1"))
        await inbound_queue.enqueue(queued("SM2"))
        claimed = await inbound_queue.claim(now=T0, lease=self.LEASE, item_id="SM2")
        assert [item.id for item in claimed] == ["SM2"]

    async def test_completed_entries_are_gone(self, inbound_queue: InboundQueue) -> None:
        await inbound_queue.enqueue(queued("SM1"))
        await inbound_queue.claim(now=T0, lease=self.LEASE)
        await inbound_queue.complete("SM1")
        assert await inbound_queue.claim(now=T0 + self.LEASE, lease=self.LEASE) == []

    async def test_concurrent_claimers_never_share_an_entry(
        self, inbound_queue: InboundQueue
    ) -> None:
        for n in range(5):
            await inbound_queue.enqueue(queued(f"SM{n}", at=T0 + timedelta(seconds=n)))
        batches = await asyncio.gather(
            *(inbound_queue.claim(now=T0, lease=self.LEASE, limit=2) for _ in range(6))
        )
        ids = [item.id for batch in batches for item in batch]
        assert sorted(ids) == [f"SM{n}" for n in range(5)]
