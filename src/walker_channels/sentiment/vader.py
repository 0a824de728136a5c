"""VADER (Hutto and Gilbert, 2014): a lexicon and rules tuned to short social-media text.

The lexicon ships inside ``vaderSentiment``: nothing is downloaded. It reads English (emoji
and emoticons too); other languages score near 0, so they are rarely taken for upset.
"""

from __future__ import annotations

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SCORED_CHARACTERS = 500
"""How much of a message is scored: its start. VADER's rules take time quadratic in the
number of words (about 1 ms for 500 characters, tens of ms for 4000), and a score runs on the
event loop; how a person feels shows in a message's first lines."""


class VaderScorer:
    """A :class:`~walker_channels.ports.SentimentScorer`: VADER's ``compound`` score.

    Build one per process: loading the lexicon takes a moment, scoring a short message a
    tenth of a millisecond. The analyzer keeps no state between calls, so one is shared.
    """

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        """``compound`` of the text's start: the normalised sum of its words' valences."""
        compound: float = self._analyzer.polarity_scores(text[:SCORED_CHARACTERS])["compound"]
        return compound
