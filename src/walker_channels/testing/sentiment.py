"""A scripted :class:`~walker_channels.ports.SentimentScorer` for tests."""

from __future__ import annotations

from collections.abc import Mapping


class ScriptedScorer:
    """Scores each text as scripted (by the whole text), any other text ``default``.

    It keeps the texts it was asked about in :attr:`texts`, so a test can see what was scored
    (and that nothing was for a message without text). Scripted values are not checked: one
    outside ``[-1, 1]`` shows what the flow does with a broken scorer.
    """

    def __init__(self, scores: Mapping[str, float] | None = None, *, default: float = 0.0) -> None:
        self._scores = dict(scores or {})
        self._default = default
        self.texts: list[str] = []

    def score(self, text: str) -> float:
        """The scripted score of ``text``."""
        self.texts.append(text)
        return self._scores.get(text, self._default)
