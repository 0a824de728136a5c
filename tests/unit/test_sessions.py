"""Conversation sessions: one per tenant, channel and person, renewed after inactivity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walker_channels import Channel
from walker_channels.models.events import InboundEvent, OutboundEvent
from walker_channels.sessions import DEFAULT_SESSION_TIMEOUT, session_id_for
from walker_channels.testing import FixedClock, InMemoryEventStore

pytestmark = pytest.mark.anyio

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Conversations:
    """Messages arriving as the inbound flow records them: look up, decide, record."""

    def __init__(self, timeout: timedelta = DEFAULT_SESSION_TIMEOUT) -> None:
        self.clock = FixedClock(START)
        self.events = InMemoryEventStore()
        self.timeout = timeout

    async def message(
        self, who: str = "p1", *, tenant: str = "t1", channel: Channel = Channel.WHATSAPP
    ) -> str:
        """The session a message from ``who`` lands in, recorded on its inbound event."""
        now = self.clock.now()
        last = await self.events.last_session(tenant, channel, who)
        session = session_id_for(tenant, channel, who, last=last, now=now, timeout=self.timeout)
        await self.events.append(
            InboundEvent(
                tenant_id=tenant,
                channel=channel,
                participant=who,
                occurred_at=now,
                session_id=session,
                text="hi",
            )
        )
        return session

    async def reply(self, session: str, who: str = "p1") -> None:
        """The agent's reply, recorded in ``session`` now."""
        await self.events.append(
            OutboundEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant=who,
                occurred_at=self.clock.now(),
                session_id=session,
                text="ok",
            )
        )


async def test_the_same_person_within_the_timeout_keeps_the_session() -> None:
    talk = Conversations()
    first = await talk.message()
    talk.clock.advance(timedelta(minutes=10))
    assert await talk.message() == first
    talk.clock.advance(timedelta(hours=23, minutes=59))
    assert await talk.message() == first


async def test_each_message_extends_the_session_from_the_last_activity() -> None:
    talk = Conversations()
    first = await talk.message()
    for _ in range(4):
        talk.clock.advance(timedelta(hours=20))
        assert await talk.message() == first


async def test_after_the_timeout_a_new_session_starts_and_then_stays() -> None:
    talk = Conversations()
    first = await talk.message()
    talk.clock.advance(timedelta(hours=24, seconds=1))
    second = await talk.message()
    assert second != first
    talk.clock.advance(timedelta(minutes=5))
    assert await talk.message() == second


async def test_a_gap_of_exactly_the_timeout_starts_a_new_session() -> None:
    talk = Conversations(timeout=timedelta(minutes=30))
    first = await talk.message()
    talk.clock.advance(timedelta(minutes=30))
    assert await talk.message() != first


async def test_the_timeout_is_configurable() -> None:
    talk = Conversations(timeout=timedelta(minutes=30))
    first = await talk.message()
    talk.clock.advance(timedelta(minutes=29))
    assert await talk.message() == first
    talk.clock.advance(timedelta(minutes=31))
    assert await talk.message() != first


async def test_the_agents_reply_counts_as_activity() -> None:
    talk = Conversations(timeout=timedelta(hours=1))
    first = await talk.message()
    talk.clock.advance(timedelta(minutes=50))
    await talk.reply(first)
    talk.clock.advance(timedelta(minutes=50))
    assert await talk.message() == first


async def test_different_tenants_never_share_a_session() -> None:
    talk = Conversations()
    assert await talk.message(tenant="t1") != await talk.message(tenant="t2")
    talk.clock.advance(timedelta(minutes=1))
    assert await talk.message(tenant="t1") != await talk.message(tenant="t2")


async def test_different_channels_never_share_a_session() -> None:
    talk = Conversations()
    on_whatsapp = await talk.message(channel=Channel.WHATSAPP)
    by_sms = await talk.message(channel=Channel.SMS)
    assert on_whatsapp != by_sms
    talk.clock.advance(timedelta(minutes=1))
    assert await talk.message(channel=Channel.SMS) == by_sms


async def test_different_people_never_share_a_session() -> None:
    talk = Conversations()
    alice, bob = await talk.message("alice"), await talk.message("bob")
    assert alice != bob
    talk.clock.advance(timedelta(minutes=1))
    assert (await talk.message("alice"), await talk.message("bob")) == (alice, bob)


async def test_a_session_id_names_tenant_channel_and_pseudonym_only() -> None:
    talk = Conversations()
    session = await talk.message("3f9a1c0d2b7e4a55", tenant="acme", channel=Channel.SMS)
    assert session.startswith("acme:sms:3f9a1c0d2b7e4a55:")
