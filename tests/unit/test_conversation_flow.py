"""The inbound conversation flow: accept once, answer once, escalate whatever is not sure."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from walker_channels.exceptions import (
    AgentError,
    AgentTimeout,
    InvalidAgentReply,
    MessageRejected,
    ProviderError,
)
from walker_channels.models import (
    Address,
    AgentReply,
    AgentRequest,
    ApprovalStatus,
    Channel,
    EscalatedEvent,
    EscalationReason,
    InboundEvent,
    InboundMessage,
    OutboundEvent,
    OutboundFailedEvent,
    RiskLevel,
)
from walker_channels.services import (
    AcceptOutcome,
    ConversationService,
    OutboundSender,
    ProcessOutcome,
    ServiceConfig,
)
from walker_channels.testing import (
    FixedClock,
    InMemoryApprovalStore,
    InMemoryConversationStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
    RecordingTransport,
    ScriptedAgent,
    ScriptStep,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = "+14155552671"
OTHER_PERSON = "+14155550199"
TENANT_NUMBER = "+14155550100"
STRANGE_NUMBER = "+14155550999"
HOLDING = "Thanks! A colleague will answer shortly."
SURE = AgentReply(text="We open at nine.", confidence=0.95, agent_id="support")
UNSURE = AgentReply(text="Maybe try again later?", confidence=0.4, agent_id="support")


class World:
    """In-memory stores and fakes shared by every service instance built from them."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.approvals = InMemoryApprovalStore()
        self.queue = InMemoryInboundQueue()
        self.ledger = InMemoryOutboundLedger(self.events)
        self.tenants = InMemoryTenantResolver({f"whatsapp:{TENANT_NUMBER}": "t1"})
        self.transport = RecordingTransport(Channel.WHATSAPP)
        self.agent = ScriptedAgent(default=SURE)
        self.config = ServiceConfig(pseudonym_key="flow-test-key", holding_message=HOLDING)
        self.conversations = InMemoryConversationStore(self.events)

    def service(self, **config: Any) -> ConversationService:
        """A fresh service instance (as a new worker process would build it)."""
        settings = self.config.replace(**config) if config else self.config
        sender = OutboundSender(
            transports={Channel.WHATSAPP: self.transport},
            ledger=self.ledger,
            clock=self.clock,
            config=settings,
        )
        return ConversationService(
            config=settings,
            tenants=self.tenants,
            events=self.events,
            queue=self.queue,
            agent=self.agent,
            approvals=self.approvals,
            sender=sender,
            clock=self.clock,
            conversations=self.conversations,
        )

    def script(self, *steps: ScriptStep, delay: float = 0.0) -> None:
        self.agent.script = list(steps)
        self.agent.delay = delay

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events.events if isinstance(event, kind)]

    def texts_sent(self) -> list[str | None]:
        return [message.text for message in self.transport.sent]


@pytest.fixture
def world() -> World:
    return World()


def whatsapp(
    sid: str = "SM" + "1" * 32,
    text: str = "When do you open?",
    *,
    sender: str = PERSON,
    to: str = TENANT_NUMBER,
    at: datetime = T0,
) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=sid,
        sender=Address(channel=Channel.WHATSAPP, value=sender),
        recipient=Address(channel=Channel.WHATSAPP, value=to),
        text=text,
        received_at=at,
    )


def assert_no_raw_number(events: Sequence[Any]) -> None:
    for event in events:
        dumped = event.model_dump_json()
        for number in (PERSON, OTHER_PERSON):
            assert number not in dumped
            assert number.lstrip("+") not in dumped


async def test_a_confident_reply_is_sent_from_the_number_the_person_wrote_to(
    world: World,
) -> None:
    handled = await world.service().handle(whatsapp())

    assert (handled.accepted, handled.processed) == (AcceptOutcome.ACCEPTED, ProcessOutcome.REPLIED)
    [sent] = world.transport.sent
    assert sent.text == SURE.text
    assert sent.to.value == PERSON
    assert sent.sender is not None
    assert sent.sender.value == TENANT_NUMBER
    [inbound] = world.of_type(InboundEvent)
    [outbound] = world.of_type(OutboundEvent)
    assert inbound.tenant_id == outbound.tenant_id == "t1"
    assert (outbound.agent_id, outbound.confidence, outbound.hitl) == ("support", 0.95, False)
    assert outbound.session_id == inbound.session_id == world.agent.requests[0].session_id
    assert world.queue.items == {}
    assert_no_raw_number(world.events.events)


async def test_the_response_time_is_the_agents_time_on_the_injected_clock(world: World) -> None:
    def slow(request: AgentRequest) -> AgentReply:
        world.clock.advance(timedelta(seconds=2))
        return SURE

    world.script(slow)

    await world.service().handle(whatsapp())

    [outbound] = world.of_type(OutboundEvent)
    assert outbound.response_time_ms == 2000.0


async def test_a_person_keeps_one_session_and_people_never_share_one(world: World) -> None:
    service = world.service()
    await service.handle(whatsapp("SM" + "1" * 32))
    world.clock.advance(timedelta(minutes=5))
    await service.handle(whatsapp("SM" + "2" * 32, at=world.clock.now()))
    await service.handle(whatsapp("SM" + "3" * 32, sender=OTHER_PERSON, at=world.clock.now()))

    first, again, other = (request.session_id for request in world.agent.requests)
    assert first == again
    assert other != first
    assert PERSON.lstrip("+") not in first


async def test_a_redelivered_webhook_is_answered_once(world: World) -> None:
    service = world.service()

    first = await service.handle(whatsapp())
    second = await service.handle(whatsapp())

    assert first.processed is ProcessOutcome.REPLIED
    assert second.accepted is AcceptOutcome.DUPLICATE
    assert second.processed is None
    assert len(world.agent.requests) == 1
    assert len(world.transport.sent) == 1
    assert len(world.of_type(InboundEvent)) == 1


class FirstAppendHeld:
    """The world's event store, whose first append waits until the test releases it."""

    def __init__(self, events: InMemoryEventStore) -> None:
        self._events = events
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._events, name)

    async def append(self, event: Any) -> bool:
        if not self.waiting.is_set():
            self.waiting.set()
            await self.release.wait()
        return await self._events.append(event)


async def test_two_deliveries_of_a_message_at_once_leave_it_queued_and_answered_once(
    world: World,
) -> None:
    held = FirstAppendHeld(world.events)
    world.events = held  # type: ignore[assignment]  # the same store, one append held
    service = world.service()

    # The first delivery queued the message and is recording it when the second arrives.
    first = asyncio.create_task(service.accept(whatsapp()))
    await held.waiting.wait()
    second = await service.accept(whatsapp())
    held.release.set()
    outcomes = {(await first).outcome, second.outcome}

    assert outcomes == {AcceptOutcome.ACCEPTED, AcceptOutcome.DUPLICATE}
    assert await service.process("SM" + "1" * 32) is ProcessOutcome.REPLIED
    assert len(world.transport.sent) == 1


async def test_ten_concurrent_deliveries_of_one_webhook_give_one_agent_run_and_one_reply(
    world: World,
) -> None:
    service = world.service()

    results = await asyncio.gather(*(service.handle(whatsapp()) for _ in range(10)))

    accepted = [r for r in results if r.accepted is AcceptOutcome.ACCEPTED]
    assert len(accepted) == 1
    assert accepted[0].processed is ProcessOutcome.REPLIED
    assert len(world.agent.requests) == 1
    assert len(world.transport.sent) == 1
    assert len(world.of_type(InboundEvent)) == 1
    assert len(world.of_type(OutboundEvent)) == 1


async def test_a_low_confidence_reply_becomes_one_approval_and_the_holding_message(
    world: World,
) -> None:
    world.script(UNSURE)

    handled = await world.service().handle(whatsapp())

    assert handled.processed is ProcessOutcome.ESCALATED
    [approval] = world.approvals.approvals.values()
    assert approval.status is ApprovalStatus.PENDING
    assert (approval.tenant_id, approval.agent_type) == ("t1", "support")
    assert (approval.proposed_text, approval.confidence) == (UNSURE.text, 0.4)
    assert (approval.reason, approval.risk_level) == (
        EscalationReason.LOW_CONFIDENCE,
        RiskLevel.MEDIUM,
    )
    assert approval.recipient.value == PERSON
    assert approval.participant == world.config.pseudonym(PERSON)
    assert approval.inbound_message_id == "SM" + "1" * 32
    assert approval.session_id == world.agent.requests[0].session_id
    assert approval.expires_at == T0 + timedelta(hours=24)
    assert world.texts_sent() == [HOLDING]
    [escalated] = world.of_type(EscalatedEvent)
    assert (escalated.approval_id, escalated.confidence) == (approval.id, 0.4)
    assert_no_raw_number(world.events.events)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (AgentError("the model endpoint answered 500"), EscalationReason.AGENT_ERROR),
        (AgentTimeout("the model took too long"), EscalationReason.AGENT_TIMEOUT),
        (InvalidAgentReply("no text in the answer"), EscalationReason.INVALID_REPLY),
        (RuntimeError("a runner that broke the port contract"), EscalationReason.AGENT_ERROR),
    ],
)
async def test_an_agent_failure_becomes_one_approval_and_the_holding_message(
    world: World, failure: Exception, reason: EscalationReason
) -> None:
    world.script(failure)

    handled = await world.service().handle(whatsapp())

    assert handled.processed is ProcessOutcome.ESCALATED
    [approval] = world.approvals.approvals.values()
    assert (approval.reason, approval.risk_level) == (reason, RiskLevel.HIGH)
    assert approval.proposed_text == ""
    assert world.texts_sent() == [HOLDING]
    assert world.queue.items == {}


async def test_an_agent_slower_than_the_timeout_is_escalated_as_a_timeout(world: World) -> None:
    world.script(SURE, delay=5.0)

    handled = await world.service(agent_timeout=timedelta(milliseconds=50)).handle(whatsapp())

    assert handled.processed is ProcessOutcome.ESCALATED
    [approval] = world.approvals.approvals.values()
    assert approval.reason is EscalationReason.AGENT_TIMEOUT
    assert world.texts_sent() == [HOLDING]


def junk(request: AgentRequest) -> AgentReply:
    return AgentReply.model_validate({"text": "hi", "confidence": 0.9})  # no agent_id


def blank(request: AgentRequest) -> AgentReply:
    return AgentReply(text="   ", confidence=0.99, agent_id="support")


def out_of_range(request: AgentRequest) -> AgentReply:
    return AgentReply.model_construct(text="hi", confidence=7.0, agent_id="support")


@pytest.mark.parametrize("step", [junk, blank, out_of_range])
async def test_an_invalid_reply_is_escalated_not_sent(world: World, step: ScriptStep) -> None:
    world.script(step)

    await world.service().handle(whatsapp())

    [approval] = world.approvals.approvals.values()
    assert approval.reason is EscalationReason.INVALID_REPLY
    assert world.texts_sent() == [HOLDING]


async def test_a_reply_without_confidence_is_escalated(world: World) -> None:
    world.script(AgentReply(text="Perhaps.", agent_id="support"))

    await world.service().handle(whatsapp())

    [approval] = world.approvals.approvals.values()
    assert approval.reason is EscalationReason.MISSING_CONFIDENCE
    assert approval.proposed_text == "Perhaps."


async def test_a_reply_the_channel_refuses_goes_to_a_reviewer(world: World) -> None:
    world.transport.fail_with(MessageRejected("the body is longer than 1600 characters"))

    handled = await world.service().handle(whatsapp())

    assert handled.processed is ProcessOutcome.ESCALATED
    [approval] = world.approvals.approvals.values()
    assert (approval.reason, approval.proposed_text) == (EscalationReason.INVALID_REPLY, SURE.text)
    assert world.texts_sent() == [HOLDING]


async def test_a_provider_failure_records_outbound_failed_with_the_twilio_code(
    world: World,
) -> None:
    world.transport.fail_with(
        ProviderError("the recipient opted out", retryable=False, code="21610")
    )

    handled = await world.service().handle(whatsapp())

    assert handled.processed is ProcessOutcome.REPLY_FAILED
    [failed] = world.of_type(OutboundFailedEvent)
    assert (failed.error_code, failed.agent_id, failed.confidence) == ("21610", "support", 0.95)
    assert world.queue.items == {}
    assert_no_raw_number(world.events.events)


async def test_a_message_to_an_unknown_number_is_recorded_and_not_answered(world: World) -> None:
    handled = await world.service().handle(whatsapp(to=STRANGE_NUMBER))

    assert handled.accepted is AcceptOutcome.UNKNOWN_TENANT
    [inbound] = world.of_type(InboundEvent)
    assert inbound.tenant_id is None
    assert world.agent.requests == []
    assert world.transport.sent == []
    assert world.queue.items == {}
    assert_no_raw_number(world.events.events)


async def test_a_message_to_an_unknown_number_gets_the_configured_notice_once(
    world: World,
) -> None:
    service = world.service(unknown_tenant_notice="This number is not in service.")

    first = await service.handle(whatsapp(to=STRANGE_NUMBER))
    again = await service.handle(whatsapp(to=STRANGE_NUMBER))

    assert (first.accepted, again.accepted) == (
        AcceptOutcome.UNKNOWN_TENANT,
        AcceptOutcome.DUPLICATE,
    )
    [notice] = world.transport.sent
    assert notice.text == "This number is not in service."
    assert notice.sender is not None
    assert notice.sender.value == STRANGE_NUMBER
    [outbound] = world.of_type(OutboundEvent)
    assert outbound.tenant_id is None


async def test_a_message_accepted_before_a_crash_is_answered_once_by_recovery(
    world: World,
) -> None:
    assert (await world.service().accept(whatsapp())).outcome is AcceptOutcome.ACCEPTED
    # The worker dies here. A new process starts after the lease ran out.
    world.clock.advance(world.config.processing_lease + timedelta(seconds=1))

    recovered = await world.service().process_pending()
    again = await world.service().process_pending()

    assert recovered == [ProcessOutcome.REPLIED]
    assert again == []
    assert len(world.transport.sent) == 1
    assert len(world.agent.requests) == 1


async def test_recovery_waits_for_a_live_lease(world: World) -> None:
    service = world.service()
    await service.accept(whatsapp())
    await world.queue.claim(now=world.clock.now(), lease=world.config.processing_lease)

    assert await world.service().process_pending() == []
    assert await service.process("SM" + "1" * 32) is ProcessOutcome.NOT_CLAIMED
    assert world.transport.sent == []


class CrashingQueue(InMemoryInboundQueue):
    """A queue whose worker dies just before it could mark the entry done."""

    crashes = 1

    async def complete(self, item_id: str) -> None:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("worker died")
        await super().complete(item_id)


@pytest.mark.parametrize("first_reply", [SURE, UNSURE])
async def test_a_crash_after_answering_does_not_answer_again(
    world: World, first_reply: AgentReply
) -> None:
    world.queue = CrashingQueue()
    world.script(first_reply)
    with pytest.raises(RuntimeError, match="worker died"):
        await world.service().handle(whatsapp())
    world.clock.advance(world.config.processing_lease + timedelta(seconds=1))

    assert await world.service().process_pending() == [ProcessOutcome.ALREADY_HANDLED]

    assert len(world.agent.requests) == 1
    assert len(world.transport.sent) == 1
    assert len(world.approvals.approvals) == (0 if first_reply is SURE else 1)
    assert world.queue.items == {}


async def test_a_message_that_keeps_crashing_its_worker_goes_to_a_reviewer(world: World) -> None:
    await world.service().accept(whatsapp())
    for _ in range(world.config.max_attempts):
        await world.queue.claim(now=world.clock.now(), lease=world.config.processing_lease)
        world.clock.advance(world.config.processing_lease + timedelta(seconds=1))

    assert await world.service().process_pending() == [ProcessOutcome.ESCALATED]

    assert world.agent.requests == []
    [approval] = world.approvals.approvals.values()
    assert approval.reason is EscalationReason.AGENT_ERROR
    assert world.texts_sent() == [HOLDING]


class EventsThatCrashOnce(InMemoryEventStore):
    """An event store whose first write dies with the worker (after the message was queued)."""

    crashes = 1

    async def append(self, event: Any) -> bool:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("worker died")
        return await super().append(event)


async def test_a_crash_between_queueing_and_recording_loses_nothing(world: World) -> None:
    world.events = EventsThatCrashOnce()
    with pytest.raises(RuntimeError, match="worker died"):
        await world.service().accept(whatsapp())
    world.clock.advance(world.config.processing_lease + timedelta(seconds=1))

    assert await world.service().process_pending() == [ProcessOutcome.REPLIED]

    assert len(world.of_type(InboundEvent)) == 1
    assert len(world.transport.sent) == 1


async def test_accepting_does_not_run_the_agent(world: World) -> None:
    assert (await world.service().accept(whatsapp())).outcome is AcceptOutcome.ACCEPTED

    assert world.agent.requests == []
    assert list(world.queue.items) == ["SM" + "1" * 32]


async def test_no_event_of_any_flow_holds_a_raw_phone_number(world: World) -> None:
    service = world.service(unknown_tenant_notice="Not in service.")
    world.script(SURE, UNSURE, AgentError("down"))
    world.transport.fail_with(ProviderError("opted out", retryable=False, code="21610"))
    for n, sender in enumerate([PERSON, OTHER_PERSON, PERSON]):
        await service.handle(whatsapp(f"SM{n:032d}", sender=sender))
    await service.handle(whatsapp("SM" + "9" * 32, to=STRANGE_NUMBER))

    kinds = {type(event).__name__ for event in world.events.events}
    assert kinds >= {"InboundEvent", "OutboundEvent", "OutboundFailedEvent", "EscalatedEvent"}
    assert_no_raw_number(world.events.events)


async def test_the_agent_configured_for_the_tenant_is_asked_and_named_on_failed_drafts(
    world: World,
) -> None:
    world.script(AgentError("flow crashed"))

    await world.service(tenant_agents={"t1": "sales"}).handle(whatsapp())

    assert [request.agent_id for request in world.agent.requests] == ["sales"]
    [approval] = world.approvals.approvals.values()
    assert approval.agent_type == "sales"
