"""Sentiment: the :class:`~walker_channels.ports.SentimentScorer` contract, and the averages
every :class:`~walker_channels.ports.MonitoringReader` computes (part of its contract)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from walker_channels.models import (
    Channel,
    ConversationEvent,
    InboundEvent,
    OutboundEvent,
    StatsQuery,
)
from walker_channels.ports import EventStore, MonitoringReader, SentimentScorer
from walker_channels.testing.contracts.common import ALL, T0, scoped
from walker_channels.testing.contracts.events import inbound

UPSET = "This is terrible. I am furious, nothing works and nobody helps me!"
HAPPY = "Thank you so much, that was wonderful and really helpful!"
NEUTRAL = "My order number is 12."
ODD_TEXTS = ("?", "ok", "🙂", "a" * 5000, "¿Dónde está mi pedido?", "\u200b", "1 2 3")


def scored(
    score: float | None, *, session: str | None = "s1", tenant: str = "t1", minutes: int = 0
) -> InboundEvent:
    """An inbound event of ``session`` with ``score`` (``None``: not scored)."""
    event: InboundEvent = inbound(None, tenant=tenant, at=T0 + timedelta(minutes=minutes))
    scored_event: InboundEvent = event.replace(sentiment=score, session_id=session)
    return scored_event


class SentimentScorerContract:
    """Provide ``scorer``: a SentimentScorer that reads English (or scripts these texts)."""

    @pytest.fixture
    def scorer(self) -> SentimentScorer:
        """Override: the scorer under test."""
        raise NotImplementedError

    def test_an_upset_message_scores_below_a_happy_one(self, scorer: SentimentScorer) -> None:
        upset, happy = scorer.score(UPSET), scorer.score(HAPPY)
        assert upset < 0 < happy

    def test_every_score_is_a_number_from_minus_one_to_one(self, scorer: SentimentScorer) -> None:
        for text in (UPSET, HAPPY, NEUTRAL, *ODD_TEXTS):
            value = scorer.score(text)
            assert math.isfinite(value)
            assert -1.0 <= value <= 1.0

    def test_the_same_text_scores_the_same(self, scorer: SentimentScorer) -> None:
        assert scorer.score(UPSET) == scorer.score(UPSET)


@pytest.mark.anyio
class SentimentAveragesContract:
    """The sentiment figures of a MonitoringReader; ``monitoring`` as in its contract."""

    async def _reader(
        self, monitoring: tuple[EventStore, MonitoringReader], *events: ConversationEvent
    ) -> MonitoringReader:
        store, reader = monitoring
        for event in events:
            assert await store.append(event)
        return reader

    async def test_stats_average_the_scored_inbound_messages(
        self, monitoring: tuple[EventStore, MonitoringReader]
    ) -> None:
        reader = await self._reader(
            monitoring,
            scored(-0.8),
            scored(0.4, minutes=1),
            scored(None, minutes=2),  # no text, or no scorer: counts in no average
            scored(0.9, tenant="t2"),
        )
        mine = await reader.stats(StatsQuery(scope=scoped("t1")))
        assert mine.inbound_total == 3
        assert mine.avg_sentiment == pytest.approx(-0.2)
        everything = await reader.stats(StatsQuery(scope=ALL))
        assert everything.avg_sentiment == pytest.approx(0.5 / 3)
        later = await reader.stats(StatsQuery(scope=ALL, start=T0 + timedelta(minutes=1)))
        assert later.avg_sentiment == pytest.approx(0.4)
        assert (await reader.stats(StatsQuery(scope=scoped("t3")))).avg_sentiment is None

    async def test_an_agent_averages_the_messages_of_the_sessions_it_answered(
        self, monitoring: tuple[EventStore, MonitoringReader]
    ) -> None:
        def answered(agent: str, session: str) -> OutboundEvent:
            return OutboundEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant="p1",
                occurred_at=T0,
                session_id=session,
                agent_id=agent,
                text="reply",
            )

        reader = await self._reader(
            monitoring,
            scored(-0.6, session="s1"),
            scored(-0.2, session="s1", minutes=1),
            scored(0.8, session="s2"),
            scored(0.5, session="s3"),  # nobody answered s3 (yet)
            scored(-1.0, session="s1", tenant="t2"),  # another tenant's s1
            answered("a", "s1"),
            answered("a", "s1"),  # two answers in one session count its messages once
            answered("b", "s2"),
            answered("b", "s1"),
            answered("c", "s9"),  # a session without scored messages
        )
        agents = {a.agent_id: a for a in await reader.agent_analytics(StatsQuery(scope=ALL))}
        assert agents["a"].avg_sentiment == pytest.approx(-0.4)
        assert agents["b"].avg_sentiment == pytest.approx((-0.6 - 0.2 + 0.8) / 3)
        assert agents["c"].avg_sentiment is None
        # Messages count when they are in the range too.
        early = StatsQuery(scope=scoped("t1"), end=T0 + timedelta(seconds=30))
        agents = {a.agent_id: a for a in await reader.agent_analytics(early)}
        assert agents["a"].avg_sentiment == pytest.approx(-0.6)
