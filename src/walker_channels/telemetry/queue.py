"""The queue gauges' reads: a metric reader's thread asks the services' loop for the figures."""

from __future__ import annotations

import asyncio
import logging
import time

from walker_channels.models import QueueStats
from walker_channels.ports import Clock, InboundQueue

log = logging.getLogger("walker_channels.flow")

QUEUE_READ_TIMEOUT = 5.0
"""Seconds a metric collection waits for the queue's figures before it skips them."""
QUEUE_READ_REUSE = 1.0
"""Seconds one read of the queue serves the gauges (one collection reads each gauge)."""


class QueueProbe:
    """Reads one queue's figures on the loop it was made on, from a metric reader's thread."""

    def __init__(self, queue: InboundQueue, clock: Clock) -> None:
        self.queue = queue
        self._clock = clock
        self._loop = asyncio.get_running_loop()
        self._last: tuple[QueueStats, float] | None = None
        self._read_at = -QUEUE_READ_REUSE

    def read(self) -> tuple[QueueStats, float] | None:
        """The figures and the oldest waiting age (s); the last ones on the loop itself."""
        if time.monotonic() - self._read_at < QUEUE_READ_REUSE:
            return self._last
        if self._loop.is_closed() or _running_loop() is self._loop:
            return self._last  # waiting here would block the loop the read needs
        future = asyncio.run_coroutine_threadsafe(self._figures(), self._loop)
        try:
            self._last = future.result(timeout=QUEUE_READ_TIMEOUT)
        except Exception as exc:
            future.cancel()
            log.warning("the queue figures could not be read: %s", type(exc).__name__)
            return None
        self._read_at = time.monotonic()
        return self._last

    async def _figures(self) -> tuple[QueueStats, float]:
        now = self._clock.now()
        stats = await self.queue.stats(now=now)
        oldest = stats.oldest_waiting_at
        return stats, 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
