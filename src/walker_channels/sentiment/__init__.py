"""Sentiment scorers: :class:`VaderScorer` on ``vaderSentiment`` (the ``sentiment`` extra).

A scorer implements :class:`~walker_channels.ports.SentimentScorer`; give one to
``build_services(sentiment=...)``, or set ``WALKER_SENTIMENT=vader`` (``docs/sentiment.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from walker_channels.extras import lazy_attribute

if TYPE_CHECKING:
    from walker_channels.sentiment.vader import VaderScorer

__all__ = ["VaderScorer"]

_HOMES = {"VaderScorer": "vader"}
_NEEDS = frozenset({"vaderSentiment"})


def __getattr__(name: str) -> Any:
    # Loaded on first use, so the settings and the CLI work without the "sentiment" extra.
    return lazy_attribute(
        __name__, _HOMES, name, needs=_NEEDS, feature="Sentiment scoring", extra="sentiment"
    )
