"""The sweep loop: finish queued messages nobody holds, expire overdue drafts, purge old text.

In a web process it is the recovery loop: a webhook's background work can die with its
process, the message stays queued under a lease, and the loop picks it up once the lease runs
out. In ``walker-channels worker`` it is the worker: with ``WALKER_WEBHOOK_PROCESSING=queue``
the web processes only accept, and the worker answers. One process or many: the queue's
leases and the approvals' compare-and-set keep them from doing anything twice.

Given a :class:`~walker_channels.ports.Wakeup`, an idle loop sweeps at once when woken (an
accepting process notified it) instead of waiting out its interval, which stays the safety
net for wake-ups that were lost.

Given :class:`~walker_channels.ports.Rollups` (the SQL stores'), it also rolls up the admin
stats of the closed days, once every ``rollup_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack, suppress

from walker_channels.failures import failure_report
from walker_channels.ports import Rollups, Wakeup
from walker_channels.services import (
    ConversationService,
    HandoffService,
    OutboundSender,
    PrivacyService,
    ReviewService,
)

logger = logging.getLogger("walker_channels.app.sweeper")


class Sweeper:
    """``process_pending`` and ``expire_due`` in batches: again at once while there was work,
    else after ``interval`` seconds or when ``wakeup`` wakes it, whichever comes first."""

    def __init__(
        self,
        *,
        conversations: ConversationService,
        review: ReviewService,
        interval: float,
        batch: int = 10,
        privacy: PrivacyService | None = None,
        sender: OutboundSender | None = None,
        handoff: HandoffService | None = None,
        wakeup: Wakeup | None = None,
        rollups: Rollups | None = None,
        rollup_interval: float = 3600.0,
    ) -> None:
        if interval <= 0:
            raise ValueError("the sweep interval must be positive")
        self._conversations = conversations
        self._review = review
        self._interval = interval
        self._batch = batch
        self._privacy = privacy
        self._sender = sender
        self._handoff = handoff
        self._wakeup = wakeup
        self._rollups = rollups
        self._rollup_interval = rollup_interval
        self._next_roll = 0.0
        self._woken = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop on the running event loop (the one that serves requests)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(asyncio.Event()), name="walker-sweeper")

    async def stop(self) -> None:
        """Stop the loop and wait until it has stopped."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Sweep at once if idle (or once more after the pass under way); from any thread."""
        loop = self._loop
        if loop is not None:
            with suppress(RuntimeError):  # the loop closed: nothing is left to wake
                loop.call_soon_threadsafe(self._woken.set)

    async def sweep(self) -> bool:
        """One pass: finish pending messages, then apply the expiry policy to overdue drafts.

        ``True`` when it processed messages (so more may be waiting). Expiry does not count:
        under the renotify policy overdue drafts stay due, and would keep the loop spinning.
        """
        processed = await self._conversations.process_pending(limit=self._batch)
        await self._review.expire_due(limit=self._batch)
        if self._privacy is not None:
            await self._privacy.purge_due()  # a no-op unless WALKER_RETENTION_DAYS is set
        settled = 0
        if self._sender is not None:
            # Sends left unknown, failed for now, or pending by a dead worker.
            settled = await self._sender.settle_due(limit=self._batch)
        if self._handoff is not None:
            # Human-mode conversations idle for WALKER_HANDOFF_IDLE_TIMEOUT go back to the agent.
            await self._handoff.release_idle(limit=self._batch)
        rolled = await self._roll()
        return bool(processed) or settled > 0 or rolled

    async def _roll(self) -> bool:
        """Roll a batch of closed days when due; ``True`` when more may be waiting."""
        if self._rollups is None or time.monotonic() < self._next_roll:
            return False
        rolled = await self._rollups.roll(limit=self._batch)
        if rolled < self._batch:
            self._next_roll = time.monotonic() + self._rollup_interval
        return rolled > 0

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep until ``stop`` is set; a pass under way is finished first."""
        self._loop = asyncio.get_running_loop()
        async with AsyncExitStack() as listening:
            if self._wakeup is not None:
                await listening.enter_async_context(self._wakeup.listening(self.wake))
            await self._loop_until(stop)

    async def _loop_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before the pass: a wake-up during it means one more pass at once.
            self._woken.clear()
            try:
                busy = await self.sweep()
            except Exception as exc:
                # A failed pass leaves its work where it was (leased, so it is not retried at
                # once); the next pass tries again.
                logger.error(
                    "a sweep failed; retrying in %s s: %s", self._interval, failure_report(exc)
                )
                busy = False
            if not busy:
                await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._woken.wait())]
        try:
            await asyncio.wait(waits, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
