"""The in-process recovery loop: finish messages whose worker died, expire overdue drafts.

A webhook's background work can die with its process. The message stays queued under a lease,
and this loop (started with the services, stopped when they close) picks it up once the lease
runs out. One process or many: the queue's leases and the approvals' compare-and-set keep
them from doing anything twice. A deployment with its own worker can switch it off.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from walker_channels.services import ConversationService, ReviewService

logger = logging.getLogger("walker_channels.web.sweeper")


class Sweeper:
    """Every ``interval`` seconds: ``process_pending`` and ``expire_due``."""

    def __init__(
        self,
        *,
        conversations: ConversationService,
        review: ReviewService,
        interval: float,
        batch: int = 10,
    ) -> None:
        if interval <= 0:
            raise ValueError("the sweep interval must be positive")
        self._conversations = conversations
        self._review = review
        self._interval = interval
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop on the running event loop (the one that serves requests)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="walker-channels-sweeper")

    async def stop(self) -> None:
        """Stop the loop and wait until it has stopped."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def sweep(self) -> None:
        """One pass: finish pending messages, then apply the expiry policy to overdue drafts."""
        await self._conversations.process_pending(limit=self._batch)
        await self._review.expire_due(limit=self._batch)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except Exception:
                # A failed pass leaves its work where it was; the next pass tries again.
                logger.exception("a recovery sweep failed; retrying in %s s", self._interval)
