"""The shared retry policy: backoff, a provider's advised wait as a capped hint (Twilio, Meta)
or binding (Telegram: waited in full, or the send ends at once when it is too long)."""

from __future__ import annotations

import pytest

from walker_channels.exceptions import ProviderError
from walker_channels.retrying import RetryNow, RetryPolicy, RetrySettings

pytestmark = pytest.mark.anyio

SETTINGS = RetrySettings(attempts=3, initial_backoff=1, max_backoff=4, retry_after_cap=30)


class Flaky:
    """An attempt that fails with the given advised waits (``None``: no advice), then works."""

    def __init__(self, *advice: float | None) -> None:
        self._advice = list(advice)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self._advice:
            error = ProviderError("rate limited", retryable=True, code="429")
            raise RetryNow(error, retry_after=self._advice.pop(0))
        return "sent"


def policy(waits: list[float], *, binding: bool, settings: RetrySettings = SETTINGS) -> RetryPolicy:
    async def record(seconds: float) -> None:
        waits.append(seconds)

    return RetryPolicy(settings, sleep=record, provider="Test", binding_advice=binding)


@pytest.mark.parametrize("binding", [False, True])
async def test_without_advice_the_wait_backs_off_exponentially(binding: bool) -> None:
    waits: list[float] = []

    assert await policy(waits, binding=binding).call(Flaky(None, None)) == "sent"

    assert waits == [1.0, 2.0]


async def test_a_hint_is_waited_but_capped() -> None:
    waits: list[float] = []

    await policy(waits, binding=False).call(Flaky(45))

    assert waits == [30.0]


async def test_binding_advice_is_waited_in_full() -> None:
    waits: list[float] = []

    await policy(waits, binding=True).call(Flaky(7.5))

    assert waits == [7.5]


async def test_binding_advice_over_the_cap_ends_the_send_at_once_as_retryable() -> None:
    waits: list[float] = []
    attempt = Flaky(45)

    with pytest.raises(ProviderError) as raised:
        await policy(waits, binding=True).call(attempt)

    assert (raised.value.retryable, attempt.calls, waits) == (True, 1, [])


async def test_binding_advice_past_the_total_time_ends_the_send_at_once() -> None:
    waits: list[float] = []
    short = RetrySettings(attempts=3, retry_after_cap=30, max_total_seconds=10)
    attempt = Flaky(20)

    with pytest.raises(ProviderError):
        await policy(waits, binding=True, settings=short).call(attempt)

    assert (attempt.calls, waits) == (1, [])
