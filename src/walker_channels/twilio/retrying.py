"""The one retry wrapper of the transport (tenacity), and what it retries.

Only :class:`RetryNow` is retried: an attempt raises it for a network failure before the
request was sent, a 5xx or a 429. Everything else (a 4xx, an unknown outcome) ends the send
at once. When the attempts or the total time run out, the last attempt's error is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from walker_channels.exceptions import TransportError
from walker_channels.twilio.config import RetrySettings

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
"""How the transport waits between attempts (``anyio.sleep``; tests pass a recording one)."""


class RetryNow(Exception):
    """An attempt failed in a way that sending again can fix; ``error`` is raised if none does."""

    def __init__(self, error: TransportError, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class RetryPolicy:
    """Runs an attempt until it succeeds, fails for good, or the retry settings run out."""

    def __init__(self, settings: RetrySettings, *, sleep: Sleep) -> None:
        self._settings = settings
        self._backoff = wait_exponential(
            multiplier=settings.initial_backoff, exp_base=2, max=settings.max_backoff
        )
        self._retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.attempts)
            | stop_after_delay(settings.max_total_seconds),
            wait=self._wait,
            retry=retry_if_exception_type(RetryNow),
            before_sleep=_log_retry,
            sleep=sleep,
            reraise=True,
        )

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``await attempt()``, again after each :class:`RetryNow`, as the settings allow."""
        try:
            # A copy per call: tenacity keeps per-call iteration state on the object.
            result: T = await self._retrying.copy()(attempt)
        except RetryNow as exc:
            raise exc.error from exc.__cause__
        return result

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, RetryNow) and failure.retry_after is not None:
            return min(failure.retry_after, self._settings.retry_after_cap)
        return float(self._backoff(state))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if usable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _log_retry(state: RetryCallState) -> None:
    failure = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    # Our error messages carry no numbers or text, so they are safe to log.
    log.warning(
        "Twilio send attempt %d failed (%s); retrying in %.2f s",
        state.attempt_number,
        failure,
        wait,
    )
