"""A per-sender rate limit: requests from one sender at most ``rate`` per second."""

from __future__ import annotations

from collections.abc import Callable

import anyio

from walker_channels.twilio.retrying import Sleep


class SenderPacer:
    """Spaces the requests of each sender at least ``1 / rate`` seconds apart.

    Each caller reserves the sender's next free slot and sleeps until it, so concurrent callers
    queue in arrival order without holding a connection while they wait.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = anyio.current_time,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}

    async def wait_turn(self, sender: str) -> None:
        """Return when ``sender`` may send its next request."""
        now = self._clock()
        slot = max(now, self._next_slot.get(sender, now))
        self._next_slot[sender] = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)
