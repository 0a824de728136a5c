"""The one retry wrapper of the HTTP transports (tenacity), its settings, and what it retries.

Pure: every provider's transport (Twilio, Meta, ...) uses it. Only :class:`RetryNow` is
retried: an attempt raises it for a network failure before the request was sent, a 5xx or a
rate limit. Everything else (a refusal, an unknown outcome) ends the send at once. When the
attempts or the total time run out, the last attempt's error is raised.

A provider's advised wait (``Retry-After``, Telegram's ``retry_after``) is either a hint,
capped at ``retry_after_cap`` (Twilio, Meta), or *binding* (Telegram refuses any send before
it): then it is waited in full, and an advice over the cap or past the total time ends the
send at once, since sending earlier is refused again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import TypeVar

from pydantic import ConfigDict, Field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_any,
    wait_exponential,
)
from tenacity.stop import stop_base

from walker_channels.exceptions import TransportError
from walker_channels.models.base import Frozen

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
"""How a transport waits between attempts (``anyio.sleep``; tests pass a recording one)."""


class RetrySettings(Frozen):
    """When and how long a transport waits before sending again.

    ``attempts`` counts the first try. The wait before retry *n* is ``initial_backoff * 2**(n-1)``
    seconds (1 s, 2 s, 4 s, ...) capped at ``max_backoff``; a ``Retry-After`` header replaces it,
    capped at ``retry_after_cap``. A failure later than ``max_total_seconds`` after the first
    attempt started is not retried.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    attempts: int = Field(default=3, ge=1, le=10)
    initial_backoff: float = Field(default=1.0, ge=0, le=60)
    max_backoff: float = Field(default=4.0, ge=0, le=300)
    retry_after_cap: float = Field(default=30.0, ge=0, le=300)
    max_total_seconds: float = Field(default=60.0, gt=0, le=3600)

    @classmethod
    def without_waits(cls, attempts: int = 3) -> RetrySettings:
        """Retry settings that never wait (for tests): same attempts, every wait zero."""
        return cls(attempts=attempts, initial_backoff=0, max_backoff=0, retry_after_cap=0)


class RetryNow(Exception):
    """An attempt failed in a way that sending again can fix; ``error`` is raised if none does."""

    def __init__(self, error: TransportError, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class RetryPolicy:
    """Runs an attempt until it succeeds, fails for good, or the retry settings run out.

    ``provider`` names who is called, in the warning logged before each retry;
    ``binding_advice`` makes the provider's advised wait binding (see the module's note).
    """

    def __init__(
        self,
        settings: RetrySettings,
        *,
        sleep: Sleep,
        provider: str = "Twilio",
        binding_advice: bool = False,
    ) -> None:
        self._settings = settings
        self._provider = provider
        self._binding = binding_advice
        self._backoff = wait_exponential(
            multiplier=settings.initial_backoff, exp_base=2, max=settings.max_backoff
        )
        stops: list[stop_base] = [
            stop_after_attempt(settings.attempts),
            stop_after_delay(settings.max_total_seconds),
        ]
        if binding_advice:
            stops.append(_AdviceTooLong(settings))
        self._retrying = AsyncRetrying(
            stop=stop_any(*stops),
            wait=self._wait,
            retry=retry_if_exception_type(RetryNow),
            before_sleep=self._log_retry,
            sleep=sleep,
            reraise=True,
        )

    async def call(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``await attempt()``, again after each :class:`RetryNow`, as the settings allow."""
        # The first attempt runs outside tenacity, whose bookkeeping cost a sixth of a send's
        # CPU (bench_twilio_send); only a failure enters it, replayed as its attempt 1 with
        # the real start time, so the waits, stops and logs are the same.
        started = time.monotonic()
        try:
            return await attempt()
        except RetryNow as exc:
            first = exc
        if self._settings.attempts == 1:
            raise first.error from first.__cause__
        replay = [first]

        async def replayed() -> T:
            if replay:
                raise replay.pop()
            return await attempt()

        # A copy per call: tenacity keeps per-call iteration state on the object.
        retrying = self._retrying.copy(before=partial(_started_at, started))
        try:
            result: T = await retrying(replayed)
        except RetryNow as exc:
            raise exc.error from exc.__cause__
        return result

    def _wait(self, state: RetryCallState) -> float:
        advice = _advised(state)
        if advice is not None:
            # Binding advice over the cap never gets here: _AdviceTooLong stopped first.
            return advice if self._binding else min(advice, self._settings.retry_after_cap)
        return float(self._backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        # Our error messages carry no numbers or text, so they are safe to log.
        log.warning(
            "%s send attempt %d failed (%s); retrying in %.2f s",
            self._provider,
            state.attempt_number,
            failure,
            wait,
        )


def _started_at(started: float, state: RetryCallState) -> None:
    """Date the replayed first attempt from when it really started (``max_total_seconds``)."""
    if state.attempt_number == 1:
        state.start_time = started


def _advised(state: RetryCallState) -> float | None:
    """The provider's advised wait after the attempt that just failed, if it gave one."""
    failure = state.outcome.exception() if state.outcome is not None else None
    return failure.retry_after if isinstance(failure, RetryNow) else None


class _AdviceTooLong(stop_base):
    """Stop when a binding advised wait is over the cap or would end past the total time."""

    def __init__(self, settings: RetrySettings) -> None:
        self._settings = settings

    def __call__(self, retry_state: RetryCallState) -> bool:
        advice = _advised(retry_state)
        if advice is None:
            return False
        spent = retry_state.seconds_since_start or 0.0
        cap, budget = self._settings.retry_after_cap, self._settings.max_total_seconds
        return advice > cap or spent + advice > budget


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
