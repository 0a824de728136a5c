"""The :class:`~walker_channels.ports.InboundQueue` contract."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from walker_channels.models import (
    Address,
    AgentReply,
    Channel,
    HeldReply,
    InboundMessage,
    QueuedInbound,
    QueueStats,
)
from walker_channels.ports import InboundQueue
from walker_channels.testing.contracts.common import T0


def queued(item_id: str, *, at: datetime = T0, conversation: str | None = None) -> QueuedInbound:
    """A queue entry for the suites (a conversation of its own unless ``conversation`` is given)."""
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
        id=item_id,
        message=message,
        tenant_id="t1",
        session_id="s1",
        conversation=conversation or f"c-{item_id}",
        enqueued_at=at,
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

    async def test_a_conversation_is_claimed_one_entry_at_a_time_in_order(
        self, inbound_queue: InboundQueue
    ) -> None:
        for n in (2, 0, 1):
            await inbound_queue.enqueue(
                queued(f"SM{n}", at=T0 + timedelta(seconds=n), conversation="c")
            )
        await inbound_queue.enqueue(queued("OTHER", at=T0 + timedelta(seconds=5)))
        first = await inbound_queue.claim(now=T0, lease=self.LEASE, limit=5)
        assert [item.id for item in first] == ["SM0", "OTHER"]
        # The second message waits while the first is leased, even when named.
        assert await inbound_queue.claim(now=T0, lease=self.LEASE, item_id="SM1") == []
        # It still waits after the first's lease runs out: the first is reclaimed instead.
        later = T0 + self.LEASE
        assert [i.id for i in await inbound_queue.claim(now=later, lease=self.LEASE)] == ["SM0"]
        await inbound_queue.complete("SM0")
        assert await inbound_queue.claim(now=later, lease=self.LEASE, item_id="SM2") == []
        nxt = await inbound_queue.claim(now=later, lease=self.LEASE, conversation="c", limit=5)
        assert [item.id for item in nxt] == ["SM1"]

    async def test_concurrent_claimers_never_hold_two_entries_of_a_conversation(
        self, inbound_queue: InboundQueue
    ) -> None:
        for n in range(6):
            at = T0 + timedelta(seconds=n)
            await inbound_queue.enqueue(queued(f"SM{n}", at=at, conversation=f"c{n % 2}"))
        batches = await asyncio.gather(
            *(inbound_queue.claim(now=T0, lease=self.LEASE, limit=3) for _ in range(4))
        )
        ids = sorted(item.id for batch in batches for item in batch)
        assert ids == ["SM0", "SM1"]

    async def test_a_lease_can_be_renewed(self, inbound_queue: InboundQueue) -> None:
        await inbound_queue.enqueue(queued("SM1"))
        await inbound_queue.claim(now=T0, lease=self.LEASE)
        renewed_at = T0 + timedelta(seconds=50)
        assert await inbound_queue.renew("SM1", now=renewed_at, lease=self.LEASE) is True
        assert await inbound_queue.claim(now=T0 + self.LEASE, lease=self.LEASE) == []
        again = await inbound_queue.claim(now=renewed_at + self.LEASE, lease=self.LEASE)
        assert [item.id for item in again] == ["SM1"]
        await inbound_queue.complete("SM1")
        assert await inbound_queue.renew("SM1", now=renewed_at, lease=self.LEASE) is False

    async def test_a_held_reply_comes_back_with_the_entry(
        self, inbound_queue: InboundQueue
    ) -> None:
        await inbound_queue.enqueue(queued("SM1"))
        await inbound_queue.claim(now=T0, lease=self.LEASE)
        held = HeldReply(
            reply=AgentReply(text="part one. part two.", confidence=0.9, agent_id="a"),
            response_time_ms=12.5,
        )
        await inbound_queue.hold_reply("SM1", held)
        (claimed,) = await inbound_queue.claim(now=T0 + self.LEASE, lease=self.LEASE)
        assert claimed.reply == held

    async def test_a_burst_joins_its_first_entry_and_leaves_with_it(
        self, inbound_queue: InboundQueue
    ) -> None:
        for n in range(3):
            at = T0 + timedelta(seconds=n)
            await inbound_queue.enqueue(queued(f"SM{n}", at=at, conversation="c"))
        await inbound_queue.enqueue(queued("OTHER", at=T0 + timedelta(seconds=1)))
        (lead,) = await inbound_queue.claim(now=T0, lease=self.LEASE, conversation="c")
        joined = await inbound_queue.gather(lead.id)
        assert [item.id for item in joined] == ["SM1", "SM2"]
        # Once the turn holds its reply, a late message no longer joins it.
        held = HeldReply(reply=AgentReply(text="ok", agent_id="a"), response_time_ms=1)
        await inbound_queue.hold_reply(lead.id, held)
        await inbound_queue.enqueue(queued("SM3", at=T0 + timedelta(seconds=3), conversation="c"))
        assert [item.id for item in await inbound_queue.gather(lead.id)] == ["SM1", "SM2"]
        await inbound_queue.complete(lead.id)
        later = T0 + self.LEASE
        rest = await inbound_queue.claim(now=later, lease=self.LEASE, limit=5)
        assert [item.id for item in rest] == ["OTHER", "SM3"]

    async def test_stats_count_waiting_and_claimed_entries_and_date_the_oldest_waiting(
        self, inbound_queue: InboundQueue
    ) -> None:
        assert await inbound_queue.stats(now=T0) == QueueStats(waiting=0, in_progress=0)
        for n in range(3):
            at = T0 + timedelta(seconds=n)
            await inbound_queue.enqueue(queued(f"SM{n}", at=at, conversation="c"))
        await inbound_queue.enqueue(queued("OTHER", at=T0 + timedelta(seconds=5)))
        (lead,) = await inbound_queue.claim(now=T0, lease=self.LEASE, conversation="c")
        await inbound_queue.gather(lead.id)  # SM1 and SM2 join SM0's turn
        stats = await inbound_queue.stats(now=T0)
        assert stats == QueueStats(
            waiting=1, in_progress=1, oldest_waiting_at=T0 + timedelta(seconds=5)
        )
        # Once the lease runs out, the claimed entry waits again.
        expired = await inbound_queue.stats(now=T0 + self.LEASE)
        assert expired == QueueStats(waiting=2, in_progress=0, oldest_waiting_at=T0)
