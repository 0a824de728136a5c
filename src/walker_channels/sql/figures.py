"""The figures of the admin stats as sums that add up across days and sources.

:class:`Figures` adds up the rows of ``aggregates.breakdown`` (read from the events) and
the rows of ``walker_day_figures`` (rolled up, ``sql.rollups``) alike, and turns itself back
into such rows, so one day's figures are written by the same code that reads them. Every
figure is a count or a sum, so a range's figures are the sum of its days'.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from walker_channels.models import EventType

Histogram = dict[float, tuple[int, float, float]]
"""Response-time log-histogram buckets: bucket -> (count, smallest, largest)."""


class Figure(NamedTuple):
    """One row of ``walker_day_figures`` without its day and source."""

    kind: str
    key: str
    n: int
    total: float | None = None
    low: float | None = None
    high: float | None = None


_TYPE, _AGENT, _BUCKET, _HOUR = "type", "agent", "bucket", "hour"
_OUTCOMES, _REFUSED, _UNDELIVERED = "outcomes", "refused", "undelivered"
_RESPONSE, _SENTIMENT, _LATENCY = "response", "sentiment", "latency"


class Figures:
    """Counts by type, agent, confidence bucket and hour; sums for the means; the histogram."""

    def __init__(self) -> None:
        self.types: Counter[EventType] = Counter()
        self.agents: Counter[str] = Counter()
        self.buckets: Counter[int] = Counter()
        self.hours: Counter[int] = Counter()
        self.outcomes = 0
        self.refused = self.undelivered = 0
        self.response_sum, self.responses = 0.0, 0
        self.sentiment_sum, self.sentiments = 0.0, 0
        self.latency: Histogram = {}

    def add_breakdown(self, rows: Iterable[Any]) -> None:
        """Add rows of ``aggregates.breakdown``."""
        for row in rows:
            n = int(row.n)
            kind = EventType(row.type)
            self.types[kind] += n
            if row.success is False:
                if kind is EventType.OUTBOUND_FAILED:
                    self.refused += n
                elif kind is EventType.DELIVERY_STATUS:
                    self.undelivered += n
            if row.hitl is not None:
                self.outcomes += n
            if row.agent_id is not None:
                self.agents[row.agent_id] += n
            if row.bucket is not None:
                self.buckets[int(row.bucket)] += n
            if row.hour is not None:
                self.hours[int(row.hour)] += n
            if row.responses:
                self.response_sum += float(row.response_sum)
                self.responses += int(row.responses)
            if row.sentiments:
                self.sentiment_sum += float(row.sentiment_sum)
                self.sentiments += int(row.sentiments)

    def add_histogram(self, rows: Iterable[Any]) -> None:
        """Add rows of ``(bucket, count, smallest, largest)`` (``aggregates``' histogram)."""
        for bucket, n, low, high in rows:
            self._add_bucket(float(bucket), int(n), float(low), float(high))

    def add_figures(self, rows: Iterable[Any]) -> None:
        """Add rows of ``(kind, key, n, total, low, high)``, as :meth:`figures` gives them."""
        for kind, key, n, total, low, high in rows:
            n = int(n)
            if kind == _LATENCY:
                self._add_bucket(float(key), n, float(low), float(high))
            elif kind == _RESPONSE:
                self.responses += n
                self.response_sum += float(total)
            elif kind == _SENTIMENT:
                self.sentiments += n
                self.sentiment_sum += float(total)
            else:
                self._count(kind, key, n)

    def figures(self) -> Iterator[Figure]:
        """These figures as rows for ``walker_day_figures`` (zero counts left out)."""
        for counter, kind in (
            (self.types, _TYPE),
            (self.agents, _AGENT),
            (self.buckets, _BUCKET),
            (self.hours, _HOUR),
        ):
            for key, n in counter.items():
                if n:
                    yield Figure(kind, str(key), n)
        totals = (_OUTCOMES, self.outcomes), (_REFUSED, self.refused)
        for kind, n in (*totals, (_UNDELIVERED, self.undelivered)):
            if n:
                yield Figure(kind, "", n)
        if self.responses:
            yield Figure(_RESPONSE, "", self.responses, self.response_sum)
        if self.sentiments:
            yield Figure(_SENTIMENT, "", self.sentiments, self.sentiment_sum)
        for bucket, (n, low, high) in self.latency.items():
            yield Figure(_LATENCY, repr(bucket), n, None, low, high)

    def histogram(self) -> list[tuple[float, int, float, float]]:
        """The response-time histogram as ``metrics.response_percentiles`` takes it."""
        return [(bucket, n, low, high) for bucket, (n, low, high) in self.latency.items()]

    def _count(self, kind: str, key: str, n: int) -> None:
        if kind == _TYPE:
            self.types[EventType(key)] += n
        elif kind == _AGENT:
            self.agents[key] += n
        elif kind == _BUCKET:
            self.buckets[int(key)] += n
        elif kind == _HOUR:
            self.hours[int(key)] += n
        elif kind == _OUTCOMES:
            self.outcomes += n
        elif kind == _REFUSED:
            self.refused += n
        elif kind == _UNDELIVERED:
            self.undelivered += n
        else:
            raise ValueError(f"unknown figure kind {kind!r}")

    def _add_bucket(self, bucket: float, n: int, low: float, high: float) -> None:
        known = self.latency.get(bucket)
        if known is not None:
            n, low, high = known[0] + n, min(known[1], low), max(known[2], high)
        self.latency[bucket] = (n, low, high)
