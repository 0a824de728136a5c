"""The :class:`~walker_channels.ports.ConversationStore` contract."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from walker_channels.models import (
    Address,
    Channel,
    Conversation,
    ConversationMode,
    ConversationQuery,
    InboundEvent,
)
from walker_channels.ports import ConversationStore, EventStore
from walker_channels.testing.contracts.common import ALL, T0, scoped

HUMAN, AGENT = ConversationMode.HUMAN, ConversationMode.AGENT


def conversation(
    tenant: str = "t1",
    who: str = "p1",
    *,
    at: datetime = T0,
    number: str = "+14155552671",
    channel: Channel = Channel.WHATSAPP,
) -> Conversation:
    """A conversation in agent mode whose person last wrote at ``at``."""
    return Conversation(
        id=f"{tenant}-{channel.value}-{who}",
        tenant_id=tenant,
        channel=channel,
        participant=who,
        address=Address(channel=channel, value=number),
        reply_from="+14155550100",
        mode_since=at,
        last_inbound_at=at,
        last_activity_at=at,
        session_id=f"{tenant}:{channel.value}:{who}:1",
    )


@pytest.mark.anyio
class ConversationStoreContract:
    """Provide an empty store as ``conversation_store``, and the event store its transcripts
    read as ``conversation_events``."""

    @pytest.fixture
    def conversation_store(self) -> ConversationStore:
        """Override: an empty ConversationStore."""
        raise NotImplementedError

    @pytest.fixture
    def conversation_events(self) -> EventStore:
        """Override: the event store whose events the transcripts show."""
        raise NotImplementedError

    async def test_a_conversation_round_trips(self, conversation_store: ConversationStore) -> None:
        item = conversation()
        assert await conversation_store.upsert(item) == item
        assert await conversation_store.get(item.id) == item
        assert await conversation_store.get("missing") is None

    async def test_a_new_message_updates_address_session_and_times_but_not_the_mode(
        self, conversation_store: ConversationStore
    ) -> None:
        first = conversation()
        await conversation_store.upsert(first)
        await conversation_store.switch(first.id, to=HUMAN, by="rev", at=T0)
        later = T0 + timedelta(hours=1)
        newer = conversation(at=later, number="+14155550123").replace(session_id="s2")
        stored = await conversation_store.upsert(newer.replace(mode_since=later))
        assert (stored.mode, stored.taken_by, stored.mode_since) == (HUMAN, "rev", T0)
        assert (stored.last_inbound_at, stored.last_activity_at) == (later, later)
        assert (stored.session_id, stored.address) == ("s2", newer.address)
        # A message that arrives late does not move the times back.
        stale = await conversation_store.upsert(conversation(at=T0))
        assert stale.last_inbound_at == later

    async def test_of_concurrent_takeovers_exactly_one_wins(
        self, conversation_store: ConversationStore
    ) -> None:
        item = conversation()
        await conversation_store.upsert(item)
        results = await asyncio.gather(
            *(conversation_store.switch(item.id, to=HUMAN, by=f"r{n}", at=T0) for n in range(10))
        )
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        assert winners[0].mode is HUMAN
        stored = await conversation_store.get(item.id)
        assert stored is not None
        assert stored.taken_by == winners[0].taken_by

    async def test_release_goes_back_to_the_agent_once(
        self, conversation_store: ConversationStore
    ) -> None:
        item = conversation()
        await conversation_store.upsert(item)
        assert await conversation_store.switch(item.id, to=AGENT, by="rev", at=T0) is None
        await conversation_store.switch(item.id, to=HUMAN, by="rev", at=T0)
        later = T0 + timedelta(minutes=5)
        released = await conversation_store.switch(item.id, to=AGENT, by="rev", at=later)
        assert released is not None
        assert (released.mode, released.taken_by, released.mode_since) == (AGENT, None, later)
        assert await conversation_store.switch(item.id, to=AGENT, by="rev", at=later) is None
        assert await conversation_store.switch("missing", to=HUMAN, by="r", at=T0) is None

    async def test_idle_lists_and_releases_only_quiet_human_conversations(
        self, conversation_store: ConversationStore
    ) -> None:
        quiet, busy, agent = conversation(who="p1"), conversation(who="p2"), conversation(who="p3")
        for item in (quiet, busy, agent):
            await conversation_store.upsert(item)
        for item in (quiet, busy):
            await conversation_store.switch(item.id, to=HUMAN, by="rev", at=T0)
        await conversation_store.touch(busy.id, at=T0 + timedelta(minutes=50))
        cutoff = T0 + timedelta(minutes=30)
        assert [c.id for c in await conversation_store.idle(cutoff)] == [quiet.id]
        assert (
            await conversation_store.switch(
                busy.id, to=AGENT, by=None, at=cutoff, idle_before=cutoff
            )
            is None
        )
        released = await conversation_store.switch(
            quiet.id, to=AGENT, by=None, at=cutoff, idle_before=cutoff
        )
        assert released is not None
        assert released.mode is AGENT

    async def test_touch_only_moves_the_activity_forward(
        self, conversation_store: ConversationStore
    ) -> None:
        item = conversation()
        await conversation_store.upsert(item)
        await conversation_store.touch(item.id, at=T0 + timedelta(minutes=3))
        await conversation_store.touch(item.id, at=T0 + timedelta(minutes=1))
        await conversation_store.touch("missing", at=T0)
        stored = await conversation_store.get(item.id)
        assert stored is not None
        assert stored.last_activity_at == T0 + timedelta(minutes=3)
        assert stored.last_inbound_at == T0

    async def test_find_filters_by_scope_mode_and_channel_most_active_first(
        self, conversation_store: ConversationStore
    ) -> None:
        old = conversation(who="p1")
        new = conversation(who="p2", at=T0 + timedelta(hours=1))
        sms = conversation(who="p3", channel=Channel.SMS, at=T0 + timedelta(hours=2))
        other = conversation("t2", who="p4")
        for item in (old, new, sms, other):
            await conversation_store.upsert(item)
        await conversation_store.switch(old.id, to=HUMAN, by="rev", at=T0)

        def ids(found: object) -> list[str]:
            return [c.id for c in found]  # type: ignore[attr-defined]

        t1 = scoped("t1")
        assert ids(await conversation_store.find(ConversationQuery(scope=t1))) == [
            sms.id,
            new.id,
            old.id,
        ]
        human = ConversationQuery(scope=ALL, mode=HUMAN)
        assert ids(await conversation_store.find(human)) == [old.id]
        whatsapp = ConversationQuery(scope=t1, channel=Channel.WHATSAPP, limit=1, offset=1)
        assert ids(await conversation_store.find(whatsapp)) == [old.id]
        assert ids(await conversation_store.find(ConversationQuery(scope=scoped()))) == []

    async def test_the_transcript_is_the_persons_latest_events_oldest_first(
        self, conversation_store: ConversationStore, conversation_events: EventStore
    ) -> None:
        item = conversation()
        await conversation_store.upsert(item)
        for n, (tenant, who) in enumerate([("t1", "p1"), ("t2", "p1"), ("t1", "p2")] * 2):
            await conversation_events.append(
                InboundEvent(
                    tenant_id=tenant,
                    channel=Channel.WHATSAPP,
                    participant=who,
                    occurred_at=T0 + timedelta(minutes=n),
                    text=f"message {n}",
                )
            )
        transcript = await conversation_store.transcript(item)
        assert [e.text for e in transcript if isinstance(e, InboundEvent)] == [
            "message 0",
            "message 3",
        ]
        [last] = await conversation_store.transcript(item, limit=1)
        assert isinstance(last, InboundEvent)
        assert last.text == "message 3"
