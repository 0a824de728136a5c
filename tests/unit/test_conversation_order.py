"""One conversation at a time, in order; bursts answered together; long replies in parts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from walker_channels.clock import SystemClock
from walker_channels.models import (
    Address,
    AgentReply,
    AgentRequest,
    Channel,
    InboundMessage,
    Location,
    OutboundEvent,
    OutboundRecord,
)
from walker_channels.services import ConversationService, OutboundSender, ServiceConfig
from walker_channels.services.outcomes import ProcessOutcome
from walker_channels.testing import (
    FixedClock,
    InMemoryApprovalStore,
    InMemoryConversationStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
    RecordingTransport,
)
from walker_channels.texts import split_text, utf16_length

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT_NUMBER = "+14155550100"
ALICE = "+14155552671"
BOB = "+14155550199"


class TimedAgent:
    """Answers each text with ``re: <text>`` after ``delays[text]`` seconds, logging overlaps."""

    def __init__(self, delays: dict[str, float] | None = None) -> None:
        self.delays = delays or {}
        self.requests: list[AgentRequest] = []
        self.log: list[tuple[str, str]] = []
        self.reply_text: str | None = None

    async def run(self, request: AgentRequest) -> AgentReply:
        self.requests.append(request)
        self.log.append(("start", request.text))
        await asyncio.sleep(self.delays.get(request.text, 0.0))
        self.log.append(("end", request.text))
        text = self.reply_text or f"re: {request.text}"
        return AgentReply(text=text, confidence=0.95, agent_id="support")


class CrashOnce(BaseException):
    """A worker dying mid-flow: not an ``Exception``, so nothing in the flow catches it."""


class CrashingLedger(InMemoryOutboundLedger):
    """Dies once when the send under ``crash_key`` is about to be reserved."""

    def __init__(self, events: InMemoryEventStore) -> None:
        super().__init__(events)
        self.crash_key: str | None = None

    async def reserve(self, record: OutboundRecord) -> bool:
        if record.key == self.crash_key:
            self.crash_key = None
            raise CrashOnce
        return await super().reserve(record)


class World:
    def __init__(self, *, max_text_length: int | None = None) -> None:
        self.clock: FixedClock | SystemClock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.queue = InMemoryInboundQueue()
        self.ledger = CrashingLedger(self.events)
        self.transport = RecordingTransport(Channel.WHATSAPP, max_text_length=max_text_length)
        self.agent = TimedAgent()
        self.config = ServiceConfig(pseudonym_key="order-test-key")
        self.conversations = InMemoryConversationStore(self.events)

    def service(self, **config: Any) -> ConversationService:
        settings = self.config.replace(**config) if config else self.config
        sender = OutboundSender(
            transports={Channel.WHATSAPP: self.transport},
            ledger=self.ledger,
            clock=self.clock,
            config=settings,
        )
        return ConversationService(
            config=settings,
            tenants=InMemoryTenantResolver({f"whatsapp:{TENANT_NUMBER}": "t1"}),
            events=self.events,
            queue=self.queue,
            agent=self.agent,
            approvals=InMemoryApprovalStore(),
            sender=sender,
            clock=self.clock,
            conversations=self.conversations,
        )

    def sent(self) -> list[tuple[str, str | None]]:
        return [(m.to.value, m.text) for m in self.transport.sent]


def message(sid: str, text: str, *, sender: str = ALICE) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=sid,
        sender=Address(channel=Channel.WHATSAPP, value=sender),
        recipient=Address(channel=Channel.WHATSAPP, value=TENANT_NUMBER),
        text=text,
        received_at=T0,
    )


async def accept_all(service: ConversationService, *messages: InboundMessage) -> None:
    for item in messages:
        await service.accept(item)


async def test_two_messages_of_one_person_are_answered_in_order_without_overlap() -> None:
    world = World()
    world.agent.delays = {"first": 0.2}
    service = world.service()
    await accept_all(service, message("SM1", "first"), message("SM2", "second"))

    # Both webhooks start processing at once, as background tasks of two requests would.
    outcomes = await asyncio.gather(service.process("SM1"), service.process("SM2"))

    assert outcomes == [ProcessOutcome.REPLIED, ProcessOutcome.NOT_CLAIMED]
    assert world.agent.log == [
        ("start", "first"),
        ("end", "first"),
        ("start", "second"),
        ("end", "second"),
    ]
    assert world.sent() == [(ALICE, "re: first"), (ALICE, "re: second")]
    assert world.queue.items == {}


async def test_different_people_are_answered_concurrently() -> None:
    world = World()
    world.agent.delays = {"alice": 0.2, "bob": 0.0}
    service = world.service()
    await accept_all(service, message("SM1", "alice"), message("SM2", "bob", sender=BOB))

    await asyncio.gather(service.process("SM1"), service.process("SM2"))

    assert world.agent.log[:2] == [("start", "alice"), ("start", "bob")]
    assert world.sent() == [(BOB, "re: bob"), (ALICE, "re: alice")]


async def test_the_sweeper_takes_one_message_per_conversation_and_keeps_the_order() -> None:
    world = World()
    service = world.service()
    await accept_all(
        service,
        message("SM1", "a1"),
        message("SM2", "b1", sender=BOB),
        message("SM3", "a2"),
    )

    first = await service.process_pending(limit=10)
    second = await service.process_pending(limit=10)

    assert (len(first), len(second)) == (2, 1)
    assert world.sent() == [(ALICE, "re: a1"), (BOB, "re: b1"), (ALICE, "re: a2")]


async def test_a_burst_sent_while_the_agent_is_busy_is_answered_as_one_turn() -> None:
    world = World()
    world.agent.delays = {"hi": 0.2}
    service = world.service(coalesce_bursts=True)
    await service.accept(message("SM1", "hi"))
    first = asyncio.create_task(service.process("SM1"))
    await asyncio.sleep(0.05)
    located = message("SM3", "").replace(
        location=Location(latitude=52.37, longitude=4.9, label="Office")
    )
    await accept_all(service, message("SM2", "I need"), located, message("SM4", "a refund"))
    assert [await service.process(sid) for sid in ("SM2", "SM3", "SM4")] == [
        ProcessOutcome.NOT_CLAIMED
    ] * 3

    await first

    assert [request.text for request in world.agent.requests] == ["hi", "I need\na refund"]
    burst = world.agent.requests[1]
    assert burst.message_id == "SM2"
    assert burst.location is not None
    assert burst.location.label == "Office"
    assert world.sent() == [(ALICE, "re: hi"), (ALICE, "re: I need\na refund")]
    assert world.queue.items == {}


async def test_without_coalescing_every_message_gets_its_own_turn() -> None:
    world = World()
    service = world.service()
    await accept_all(service, message("SM1", "one"), message("SM2", "two"))

    await service.process("SM1")

    assert [request.text for request in world.agent.requests] == ["one", "two"]


LONG_REPLY = "\n\n".join(
    " ".join(f"Paragraph {p} sentence {s} explains one more detail." for s in range(20))
    for p in range(6)
)


async def test_a_long_reply_goes_out_in_ordered_parts_each_within_the_limit() -> None:
    assert utf16_length(LONG_REPLY) > 5000
    world = World(max_text_length=1600)
    world.agent.reply_text = LONG_REPLY
    service = world.service()
    await service.accept(message("SM1", "tell me everything"))

    assert await service.process("SM1") is ProcessOutcome.REPLIED

    texts = [text or "" for _, text in world.sent()]
    assert len(texts) == len(split_text(LONG_REPLY, 1600) or []) >= 4
    assert all(utf16_length(text) <= 1600 for text in texts)
    # Nothing lost, nothing reordered: the parts put back together are the reply's words.
    assert " ".join(texts).split() == LONG_REPLY.split()
    outbound = [e for e in world.events.events if isinstance(e, OutboundEvent)]
    assert [e.data["part"] for e in outbound] == list(range(1, len(texts) + 1))
    assert len({e.idempotency_key for e in outbound}) == len(texts)


async def test_a_crash_between_parts_resumes_the_same_reply_and_sends_no_part_twice() -> None:
    world = World(max_text_length=1600)
    world.agent.reply_text = LONG_REPLY
    world.ledger.crash_key = "reply:SM1:part3"
    await world.service().accept(message("SM1", "tell me everything"))

    with pytest.raises(CrashOnce):
        await world.service().process("SM1")
    assert len(world.transport.sent) == 2
    world.agent.reply_text = "a different answer the agent would give the second time"
    world.clock.advance(world.config.processing_lease + timedelta(seconds=1))

    assert await world.service().process_pending() == [ProcessOutcome.REPLIED]

    texts = [text or "" for _, text in world.sent()]
    assert texts == split_text(LONG_REPLY, 1600)
    assert len(world.agent.requests) == 1
    assert world.queue.items == {}


async def test_a_reply_with_a_word_longer_than_the_limit_is_escalated() -> None:
    world = World(max_text_length=20)
    world.agent.reply_text = "see https://example.com/a/very/long/path/that/cannot/be/cut"
    service = world.service()
    await service.accept(message("SM1", "link?"))

    assert await service.process("SM1") is ProcessOutcome.ESCALATED
    assert world.sent()[0][1] == world.config.holding_message


def test_split_text_cuts_at_paragraphs_then_sentences_then_words() -> None:
    assert split_text("short", 10) == ["short"]
    assert split_text("One two.\n\nThree four.", 12) == ["One two.", "Three four."]
    assert split_text("One two. Three four. Five.", 20) == ["One two. Three four.", "Five."]
    assert split_text("alpha beta gamma delta", 11) == ["alpha beta", "gamma delta"]
    assert split_text("unbreakable", 5) is None
    # Emoji count as two UTF-16 units, as Twilio counts them.
    assert split_text("😀😀 😀😀", 4) == ["😀😀", "😀😀"]


async def test_a_live_worker_renews_its_lease_so_a_slow_agent_is_not_taken_for_dead() -> None:
    world = World()
    world.agent.delays = {"slow": 0.6}
    lease = timedelta(seconds=0.2)
    clock = SystemClock()
    world.clock = clock
    service, rival = world.service(processing_lease=lease), world.service(processing_lease=lease)
    await service.accept(message("SM1", "slow"))

    working = asyncio.create_task(service.process("SM1"))
    for _ in range(4):
        await asyncio.sleep(0.15)
        assert await rival.process_pending() == []

    assert await working is ProcessOutcome.REPLIED
    assert len(world.agent.requests) == 1


async def test_a_late_repeated_delivery_does_not_hold_up_the_next_message() -> None:
    world = World()
    service = world.service()
    await service.accept(message("SM1", "first"))
    assert await service.process("SM1") is ProcessOutcome.REPLIED

    # Twilio delivers the answered message again, then the person writes once more.
    await service.accept(message("SM1", "first"))
    await service.accept(message("SM2", "second"))

    assert world.queue.items.keys() == {"SM2"}
    assert await service.process("SM2") is ProcessOutcome.REPLIED
    assert world.sent() == [(ALICE, "re: first"), (ALICE, "re: second")]
