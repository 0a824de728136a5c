"""When the sweeps act on a send that did not go out: retry with backoff, look up unknowns."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from walker_channels.models.base import Frozen


class SendRecoveryPolicy(Frozen):
    """How :meth:`OutboundSender.settle_due` retries failed sends and settles unknown ones.

    A retryable failure of a send a person decided on (``SendPurpose.retried_later``) is tried
    again after ``backoff``, doubling up to ``max_backoff``, until ``attempts`` attempts were
    made. A send whose outcome is unknown is looked up at the provider ``lookup_delay`` after
    it (Twilio lists a message by ``DateSent`` only once it left its queue), again after each
    failed lookup, and left to the operator once ``lookup_window`` has passed.
    """

    attempts: int = Field(default=5, ge=1)
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=30)
    lookup_delay: timedelta = timedelta(seconds=60)
    lookup_window: timedelta = timedelta(hours=24)
    pending_timeout: timedelta = timedelta(minutes=15)
    """A ``pending`` record this old was left by a worker that died: it becomes ``unknown``.
    Keep it above the longest send (the transport's retries) and the processing lease."""

    def next_retry(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` attempts failed; ``None`` once they are used up."""
        if attempts >= self.attempts:
            return None
        wait: timedelta = min(self.backoff * 2 ** max(attempts - 1, 0), self.max_backoff)
        return now + wait

    def next_lookup(self, reserved_at: datetime, now: datetime) -> datetime | None:
        """When to look an unknown send up (again); ``None`` once the window has passed."""
        at = max(now, reserved_at) + self.lookup_delay
        return at if at - reserved_at <= self.lookup_window else None
