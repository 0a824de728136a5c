"""Sentiment: each message is scored once on accepting it, and an upset person's message is
escalated or handed to a human, as configured."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from walker_channels.exceptions import ConfigurationError
from walker_channels.models import (
    Address,
    AgentReply,
    Channel,
    ConversationMode,
    EscalationReason,
    HandoffStartedEvent,
    InboundEvent,
    InboundMessage,
    Media,
    QueuedInbound,
    RiskLevel,
)
from walker_channels.ports import SentimentScorer
from walker_channels.services import (
    SENTIMENT_HANDOFF_BY,
    ConversationService,
    OutboundSender,
    ProcessOutcome,
    SentimentAction,
    ServiceConfig,
)
from walker_channels.services.bursts import merged_turn
from walker_channels.testing import (
    FixedClock,
    InMemoryApprovalStore,
    InMemoryConversationStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
    RecordingEvents,
    RecordingTransport,
    ScriptedAgent,
    ScriptedScorer,
)
from walker_channels.testing.contracts import SentimentScorerContract
from walker_channels.testing.contracts.sentiment import HAPPY, NEUTRAL, UPSET

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT_NUMBER = "+14155550100"
ANGRY = "You people are useless, this is the worst service ever!"
GLAD = "Thanks, that was great!"
SCRIPT = {ANGRY: -0.9, GLAD: 0.8, UPSET: -0.7, HAPPY: 0.9, NEUTRAL: 0.0}
SURE = AgentReply(text="We open at nine.", confidence=0.95, agent_id="support")
UNSURE = AgentReply(text="Maybe?", confidence=0.3, agent_id="support")


class World:
    """In-memory stores, a scripted scorer and agent, recording hooks and transport."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.approvals = InMemoryApprovalStore()
        self.queue = InMemoryInboundQueue()
        self.ledger = InMemoryOutboundLedger(self.events)
        self.tenants = InMemoryTenantResolver({f"whatsapp:{TENANT_NUMBER}": "t1"})
        self.transport = RecordingTransport(Channel.WHATSAPP)
        self.agent = ScriptedAgent(default=SURE)
        self.conversations = InMemoryConversationStore(self.events)
        self.hooks = RecordingEvents()
        self.scorer = ScriptedScorer(SCRIPT)

    def service(self, scorer: SentimentScorer | None = None, **config: Any) -> ConversationService:
        settings = ServiceConfig(pseudonym_key="sentiment-test-key", **config)
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
            hooks=self.hooks,
            sentiment=scorer or self.scorer,
        )

    def inbound_events(self) -> list[InboundEvent]:
        return [e for e in self.events.events if isinstance(e, InboundEvent)]

    def sent(self) -> list[str | None]:
        return [m.text for m in self.transport.sent]


@pytest.fixture
def world() -> World:
    return World()


_sids = iter(range(1, 10_000))


def message(text: str, *, media: tuple[Media, ...] = ()) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=f"SM{next(_sids):032x}",
        sender=Address(channel=Channel.WHATSAPP, value="+14155552671"),
        recipient=Address(channel=Channel.WHATSAPP, value=TENANT_NUMBER),
        text=text,
        media=media,
        received_at=T0,
    )


class TestScriptedScorer(SentimentScorerContract):
    @pytest.fixture
    def scorer(self) -> SentimentScorer:
        return ScriptedScorer(SCRIPT)


class TestVaderScorer(SentimentScorerContract):
    @pytest.fixture
    def scorer(self) -> SentimentScorer:
        from walker_channels.sentiment import VaderScorer

        return VaderScorer()

    @pytest.mark.parametrize(
        ("text", "low", "high"),
        [
            (ANGRY, -1.0, -0.5),
            ("I hate this, it is awful and I am so angry.", -1.0, -0.5),
            ("Thank you so much, you are wonderful! 😊", 0.5, 1.0),
            ("Great, that works perfectly. Love it!", 0.5, 1.0),
            ("My order number is 4471.", -0.1, 0.1),
        ],
    )
    def test_clear_sentences_score_as_they_read(
        self, scorer: SentimentScorer, text: str, low: float, high: float
    ) -> None:
        assert low <= scorer.score(text) <= high

    def test_a_long_message_is_scored_by_its_start(self, scorer: SentimentScorer) -> None:
        upset_start = "This is terrible and I am furious. " * 14  # 490 characters
        assert scorer.score(upset_start + "lovely wonderful " * 400) < -0.5


async def test_the_score_is_recorded_on_the_inbound_event(world: World) -> None:
    await world.service().handle(message(GLAD))
    (event,) = world.inbound_events()
    assert event.sentiment == pytest.approx(0.8)
    assert world.sent() == [SURE.text]


async def test_a_message_without_text_gets_no_score_and_the_scorer_is_not_asked(
    world: World,
) -> None:
    photo = (Media(url="https://api.twilio.com/media/ME1", content_type="image/jpeg"),)
    await world.service().handle(message("", media=photo))
    await world.service().handle(message("   \n", media=photo))
    assert [e.sentiment for e in world.inbound_events()] == [None, None]
    assert world.scorer.texts == []


async def test_without_a_scorer_nothing_is_scored_or_routed(world: World) -> None:
    service = ConversationService(
        config=ServiceConfig(pseudonym_key="k"),
        tenants=world.tenants,
        events=world.events,
        queue=world.queue,
        agent=world.agent,
        approvals=world.approvals,
        sender=OutboundSender(
            transports={Channel.WHATSAPP: world.transport},
            ledger=world.ledger,
            clock=world.clock,
            config=ServiceConfig(pseudonym_key="k"),
        ),
        clock=world.clock,
        conversations=world.conversations,
    )
    forged = message(ANGRY).replace(sentiment=-1.0)  # a caller's score is never trusted
    assert (await service.handle(forged)).processed is ProcessOutcome.REPLIED
    assert [e.sentiment for e in world.inbound_events()] == [None]


async def test_an_upset_message_is_escalated_with_its_reason(world: World) -> None:
    handled = await world.service().handle(message(ANGRY))
    assert handled.processed is ProcessOutcome.ESCALATED
    (approval,) = world.approvals.approvals.values()
    assert (approval.reason, approval.risk_level) == (
        EscalationReason.NEGATIVE_SENTIMENT,
        RiskLevel.HIGH,
    )
    assert approval.proposed_text == SURE.text  # the agent answered; a reviewer decides
    assert SURE.text not in world.sent()
    assert [h.reason for h in world.hooks.named("draft_created")] == [  # type: ignore[attr-defined]
        EscalationReason.NEGATIVE_SENTIMENT
    ]


async def test_a_message_at_the_threshold_or_above_is_answered(world: World) -> None:
    service = world.service(sentiment_threshold=-0.9)
    assert (await service.handle(message(ANGRY))).processed is ProcessOutcome.REPLIED
    assert (await service.handle(message(GLAD))).processed is ProcessOutcome.REPLIED
    assert world.approvals.approvals == {}


async def test_an_escalated_reply_keeps_its_own_reason(world: World) -> None:
    world.agent.default = UNSURE
    await world.service().handle(message(ANGRY))
    (approval,) = world.approvals.approvals.values()
    assert approval.reason is EscalationReason.LOW_CONFIDENCE


async def test_an_upset_message_hands_the_conversation_to_a_human(world: World) -> None:
    service = world.service(sentiment_action=SentimentAction.HANDOFF)
    handled = await service.handle(message(ANGRY))
    assert handled.processed is ProcessOutcome.HANDED_OFF
    assert world.agent.requests == []  # the agent is not run
    assert world.sent() == []
    (conversation,) = world.conversations.conversations.values()
    assert (conversation.mode, conversation.taken_by) == (
        ConversationMode.HUMAN,
        SENTIMENT_HANDOFF_BY,
    )
    (started,) = world.hooks.named("handoff_started")
    assert isinstance(started, HandoffStartedEvent)
    assert (started.by, started.reason) == (SENTIMENT_HANDOFF_BY, "negative_sentiment")
    assert (await service.handle(message(GLAD))).processed is ProcessOutcome.HUMAN


async def test_a_happy_message_is_answered_with_the_handoff_action(world: World) -> None:
    service = world.service(sentiment_action=SentimentAction.HANDOFF)
    assert (await service.handle(message(GLAD))).processed is ProcessOutcome.REPLIED
    assert world.hooks.named("handoff_started") == []


async def test_negative_sentiment_among_the_handoff_reasons_escalates_and_hands_off(
    world: World,
) -> None:
    reasons = frozenset({EscalationReason.NEGATIVE_SENTIMENT})
    await world.service(handoff_reasons=reasons).handle(message(ANGRY))
    assert len(world.approvals.approvals) == 1
    (started,) = world.hooks.named("handoff_started")
    assert isinstance(started, HandoffStartedEvent)
    assert started.reason == "negative_sentiment"


class Broken:
    def __init__(self, outcome: float | None) -> None:
        self.outcome = outcome

    def score(self, text: str) -> float:
        if self.outcome is None:
            raise RuntimeError(f"cannot score {text}")
        return self.outcome


@pytest.mark.parametrize("outcome", [None, 1.5, float("nan")])
async def test_a_broken_scorer_records_no_score_and_the_message_is_answered(
    world: World, outcome: float | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    handled = await world.service(Broken(outcome)).handle(message(ANGRY))
    assert handled.processed is ProcessOutcome.REPLIED
    assert [e.sentiment for e in world.inbound_events()] == [None]
    assert "sentiment" in caplog.text
    assert "useless" not in caplog.text  # the log never holds the message's text


async def test_the_score_is_a_bare_number_the_scorer_saw_the_text_once(world: World) -> None:
    world.agent.default = UNSURE  # escalated: the worker routes by the recorded score
    await world.service().handle(message(ANGRY))
    (event,) = world.inbound_events()
    assert type(event.sentiment) is float
    assert world.scorer.texts == [ANGRY]


def _queued(text: str, score: float | None, n: int) -> QueuedInbound:
    return QueuedInbound(
        id=f"m{n}",
        message=message(text).replace(sentiment=score),
        tenant_id="t1",
        session_id="s",
        conversation="c",
        enqueued_at=T0,
    )


def test_a_burst_reads_as_upset_as_its_most_upset_message() -> None:
    lead = _queued("hello", 0.2, 1)
    turn = merged_turn(lead, [_queued("this is awful", -0.8, 2), _queued("", None, 3)])
    assert turn.message.sentiment == -0.8
    assert merged_turn(_queued("a", None, 4), [_queued("b", None, 5)]).message.sentiment is None


def test_the_settings_name_the_scorer_threshold_and_action() -> None:
    from walker_channels.app import Settings

    settings = Settings(
        walker_pseudonym_key="k",
        walker_sentiment="vader",
        walker_sentiment_threshold=-0.2,
        walker_sentiment_action="handoff",
    )
    config = settings.service_config()
    assert (config.sentiment_threshold, config.sentiment_action) == (-0.2, SentimentAction.HANDOFF)
    for bad in ({"walker_sentiment": "textblob"}, {"walker_sentiment_threshold": -2}):
        with pytest.raises(ConfigurationError, match="WALKER_SENTIMENT"):
            Settings(**bad)
    with pytest.raises(ConfigurationError, match="WALKER_SENTIMENT_ACTION"):
        Settings(walker_sentiment_action="ignore")


def test_without_the_extra_the_error_names_it() -> None:
    probe = (
        "import sys\n"
        "class Absent:\n"  # finds vaderSentiment nowhere, as where the extra is not installed
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'vaderSentiment':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "from walker_channels.exceptions import MissingDependency\n"
        "try:\n"
        "    from walker_channels.sentiment import VaderScorer\n"
        "except MissingDependency as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert 'pip install "walker-channels[sentiment]"' in done.stdout
