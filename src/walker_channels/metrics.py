"""What the admin figures mean, so every MonitoringReader computes the same numbers.

Pure definitions shared by the SQL reader (which computes them in SQL) and the in-memory
reader (which computes them in Python):

- an *agent outcome* is the agent's answer to one message: an ``escalated`` event, or an
  ``outbound`` / ``outbound_failed`` event whose ``data["purpose"]`` is ``"reply"`` (or
  missing). Other sends (the holding message of an escalation, a reviewer's approved send,
  a fallback, a proactive send, a notice) are not: one escalated message that a reviewer
  approves is one outcome, not three. :func:`event_hitl` is ``None`` exactly for the events
  that are not outcomes, and the SQL store keeps it in the ``hitl`` column;
- an *error* is an ``outbound_failed`` event, or an escalation because the agent failed
  (error, timeout or an invalid reply);
- HITL rate = escalations / agent outcomes; error rate = errors among agent outcomes /
  agent outcomes; success rate = (sent - failed deliveries) / (sent + refused attempts), as
  :func:`send_success_rate` defines it; for the agents' own rate, sent / (sent + failed), where
  the outbound and failed
  totals count every ``outbound`` and ``outbound_failed`` event (an agent's success rate:
  its own outcomes only);
- interactions (per agent, busiest agents), mean response time, response-time percentiles
  and confidence buckets are over agent outcomes; percentiles interpolate linearly between
  the closest ranks (as PostgreSQL's ``percentile_cont``) of a 1 % log histogram, within
  :data:`PERCENTILE_ERROR` (0.5 %) of the exact value: see :func:`response_percentiles`;
- confidence falls in :data:`CONFIDENCE_BUCKETS` equal buckets ``[i/n, (i+1)/n)``, the last
  one including 1;
- the hourly distribution counts inbound messages per UTC hour; unique users counts distinct
  participants among all matching events;
- an agent's uptime is the share of the time windows (``floor(epoch seconds / window)``) in
  which it had agent outcomes where none of them was an error;
- the average sentiment is the mean ``sentiment`` of the matching ``inbound`` events that have
  one (messages without text, or accepted without a scorer, have none); an agent's is the
  mean over the scored inbound messages, in the range, of the sessions (tenant and
  ``session_id``) in which that agent had an agent outcome in the range: the conversations
  it answered, so an upset person whose message was escalated still counts for the agent;
- an *unknown-recipient message* is an ``inbound`` event without a tenant: a message to a
  number no tenant owns. It is counted only by a read over every tenant (a superuser's), as
  it belongs to none.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from walker_channels.exceptions import InvalidInput
from walker_channels.models import (
    ConversationEvent,
    DeliveryStatus,
    DeliveryStatusEvent,
    EscalatedEvent,
    EscalationReason,
    EventType,
    OutboundEvent,
    OutboundFailedEvent,
)
from walker_channels.storable import is_storable

REPLY_PURPOSE = "reply"
"""The ``data["purpose"]`` of a send that is the agent's answer to a message."""
AGENT_FAILURES = frozenset(
    {EscalationReason.AGENT_ERROR, EscalationReason.AGENT_TIMEOUT, EscalationReason.INVALID_REPLY}
)
"""Escalation reasons that count as an agent error."""
CONFIDENCE_BUCKETS = 10
TOP_AGENTS = 10
PERCENTILES = (0.5, 0.95, 0.99)
LOG_BUCKET_WIDTH = math.log(1.01)
"""Response-time percentiles group the times in buckets 1 % wide (:func:`response_bucket`)."""
PERCENTILE_ERROR = 0.005
"""The largest relative error of a response-time percentile (:func:`response_percentiles`)."""
ZERO_BUCKET = -1_000_000
"""The bucket of a zero response time: the smallest positive double is in bucket -74,816."""


def event_hitl(event: ConversationEvent) -> bool | None:
    """``True`` for an escalation, ``False`` for the agent's reply, ``None`` for other events.

    A send counts as the agent's reply when its purpose is ``"reply"`` or missing (events
    written by hand); a JSON ``null`` counts as missing, as it does in SQL.
    """
    if isinstance(event, EscalatedEvent):
        return True
    if isinstance(event, OutboundEvent | OutboundFailedEvent):
        purpose = event.data.get("purpose")
        return False if purpose is None or purpose == REPLY_PURPOSE else None
    return None


def is_agent_outcome(event: ConversationEvent) -> bool:
    """Whether ``event`` is the agent's answer to a message (see the module docstring)."""
    return event_hitl(event) is not None


def event_success(event: ConversationEvent) -> bool | None:
    """``True`` for a sent message, ``False`` for a failed send or a delivery callback that
    says ``failed`` or ``undelivered``, ``None`` otherwise (an attempt whose outcome is unknown
    is no outcome yet: its settlement records one)."""
    if isinstance(event, OutboundEvent):
        return True
    if isinstance(event, OutboundFailedEvent):
        return None if event.outcome_unknown else False
    if isinstance(event, DeliveryStatusEvent):
        failed = event.status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)
        return False if failed else None
    return None


def event_is_error(event: ConversationEvent) -> bool:
    """Whether the event is an error: a failed send or an escalation because the agent failed."""
    if isinstance(event, OutboundFailedEvent):
        return True
    return isinstance(event, EscalatedEvent) and event.reason in AGENT_FAILURES


def is_unknown_recipient(event: ConversationEvent) -> bool:
    """Whether ``event`` is a message to a number no tenant owns (stored without a tenant)."""
    return event.type is EventType.INBOUND and event.tenant_id is None


def confidence_bucket(confidence: float) -> int:
    """The index of the bucket ``confidence`` falls in."""
    return min(int(confidence * CONFIDENCE_BUCKETS), CONFIDENCE_BUCKETS - 1)


def confidence_bounds() -> tuple[tuple[float, float], ...]:
    """The ``(lower, upper)`` bounds of every bucket, in order."""
    n = CONFIDENCE_BUCKETS
    return tuple((i / n, (i + 1) / n) for i in range(n))


def window_seconds(window: timedelta) -> int:
    """The uptime window as whole seconds; raises for a window shorter than one second."""
    seconds = int(window.total_seconds())
    if seconds < 1:
        raise InvalidInput("uptime_window must be at least one second")
    return seconds


def window_index(at: datetime, seconds: int) -> int:
    """Which uptime window ``at`` falls in."""
    return math.floor(at.timestamp()) // seconds


def response_bucket(value: float) -> float:
    """The log-histogram bucket of a response time: ``floor(ln(value) / ln(1.01))``.

    Bucket ``i`` holds ``[1.01**i, 1.01**(i + 1))``; zero (no logarithm) has
    :data:`ZERO_BUCKET`, below every other. The SQL stores compute the same expression.
    """
    if value == 0:
        return ZERO_BUCKET
    if math.isinf(value):
        return value
    return math.floor(math.log(value) / LOG_BUCKET_WIDTH)


def response_histogram(values: Iterable[float]) -> list[tuple[float, int, float, float]]:
    """Rows of ``(bucket, count, smallest, largest)`` of ``values``, as the SQL stores group
    them, for :func:`response_percentiles`."""
    rows: dict[float, tuple[float, int, float, float]] = {}
    for value in values:
        key = response_bucket(value)
        _, count, low, high = rows.get(key, (key, 0, value, value))
        rows[key] = (key, count + 1, min(low, value), max(high, value))
    return list(rows.values())


def response_percentiles(
    buckets: Iterable[tuple[float, int, float, float]], fractions: Sequence[float] = PERCENTILES
) -> tuple[float | None, ...]:
    """Percentiles from a log histogram: rows of ``(bucket, count, smallest, largest)``.

    The value at a rank is the midpoint of its bucket's smallest and largest value, so it is
    within ``(1.01 - 1) / 2`` (:data:`PERCENTILE_ERROR`) of the true value, and exact where a
    bucket holds one distinct value; ranks are interpolated as ``percentile_cont`` does,
    which keeps that bound. A histogram is a few hundred rows whatever the number of
    events, where the exact figure sorts every response time.
    """
    ordered = sorted(buckets)
    total = sum(count for _, count, _, _ in ordered)
    if not total:
        return tuple(None for _ in fractions)
    ends = list(itertools.accumulate(count for _, count, _, _ in ordered))

    def at(rank: int) -> float:
        _, _, low, high = ordered[bisect.bisect_right(ends, rank)]
        return low if low == high else (low + high) / 2

    found = []
    for fraction in fractions:
        position = fraction * (total - 1)
        lower = int(position)
        upper = min(lower + 1, total - 1)
        found.append(at(lower) + (at(upper) - at(lower)) * (position - lower))
    return tuple(found)


def send_success_rate(sent: int, failed_attempts: int, failed_deliveries: int) -> float | None:
    """The share of sends that reached an outcome and stayed good, as the ledger ends them.

    ``sent``: sends that went out; ``failed_attempts``: attempts the provider refused (an
    unknown outcome is no outcome until it is settled); ``failed_deliveries``: sent messages
    whose delivery callback later said ``failed`` or ``undelivered`` (see
    :func:`event_success`), which no longer count as successes.
    """
    return ratio(max(sent - failed_deliveries, 0), sent + failed_attempts)


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def encode_cursor(occurred_at: datetime, event_id: str) -> str:
    """An opaque cursor for keyset pagination on ``(occurred_at, id)``."""
    raw = f"{occurred_at.astimezone(UTC).isoformat()}|{event_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor from :func:`encode_cursor` points at; raises for anything else."""
    invalid = "the cursor is not valid: pass a next_cursor from a previous page"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, event_id = raw.split("|", 1)
        occurred_at = datetime.fromisoformat(stamp)
        if occurred_at.tzinfo is None or not event_id or not is_storable(event_id):
            raise InvalidInput(invalid)
        # A forged cursor can name a time with no UTC form (year 1 at +14:00): refused here,
        # not left to overflow in the store.
        return occurred_at.astimezone(UTC), event_id
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise InvalidInput(invalid) from exc
