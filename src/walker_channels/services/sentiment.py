"""Sentiment in the inbound flow: a message is scored once, when it is accepted, and an upset
one is escalated or handed to a human (``docs/sentiment.md``).

The score travels with the queued message (:attr:`InboundMessage.sentiment`), so the worker
that answers routes by the very score the inbound event recorded, without scoring again.
"""

from __future__ import annotations

import logging
import math

from walker_channels.failures import failure_report
from walker_channels.models import EscalationReason, InboundMessage, RiskLevel
from walker_channels.ports import SentimentScorer
from walker_channels.routing import Route
from walker_channels.services.config import SentimentAction

log = logging.getLogger(__name__)

SENTIMENT_HANDOFF_BY = "system:sentiment"
"""``by`` of a handoff started because the person's message scored below the threshold."""
NEGATIVE_SENTIMENT_ROUTE = Route(
    send=False, reason=EscalationReason.NEGATIVE_SENTIMENT, risk_level=RiskLevel.HIGH
)
"""An upset person's reply goes to review as high risk: a wrong word costs most there."""


class SentimentGuard:
    """Scores messages with the host's scorer (none: nothing is scored) and tells what an
    upset one gets."""

    def __init__(
        self,
        scorer: SentimentScorer | None,
        *,
        threshold: float,
        action: SentimentAction,
    ) -> None:
        self._scorer = scorer
        self._threshold = threshold
        self._action = action

    def scored(self, message: InboundMessage) -> InboundMessage:
        """``message`` carrying its score; never a score the caller put there."""
        score = self.score(message.text)
        if score == message.sentiment:
            return message
        scored: InboundMessage = message.replace(sentiment=score)
        return scored

    def score(self, text: str) -> float | None:
        """The score of ``text``; ``None`` without a scorer, without text, or on a failure."""
        if self._scorer is None or not text.strip():
            return None
        try:
            value = float(self._scorer.score(text))
        except Exception as exc:
            # A score is a figure, not part of the message: a broken scorer must not make the
            # webhook fail (the provider would retry, and the person would wait).
            log.warning("scoring a message's sentiment failed: %s", failure_report(exc))
            return None
        if not (math.isfinite(value) and -1.0 <= value <= 1.0):
            log.warning("the sentiment scorer gave a score outside [-1, 1]; none recorded")
            return None
        return value

    def _upset(self, message: InboundMessage) -> bool:
        return message.sentiment is not None and message.sentiment < self._threshold

    def hands_off(self, message: InboundMessage) -> bool:
        """Whether ``message`` hands its conversation to a human before the agent runs."""
        return self._action is SentimentAction.HANDOFF and self._upset(message)

    def route(self, route: Route, message: InboundMessage) -> Route:
        """``route``, or review instead of sending when ``message`` is upset (``escalate``).

        A reply that is escalated anyway keeps its own reason.
        """
        upset = self._action is SentimentAction.ESCALATE and self._upset(message)
        return NEGATIVE_SENTIMENT_ROUTE if route.send and upset else route
