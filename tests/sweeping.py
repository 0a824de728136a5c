"""A sweeper that says when it rests, so a test knows that only a wake-up can start it now."""

from __future__ import annotations

import asyncio
from typing import Any

from walker_channels.app import Sweeper


class WatchedSweeper(Sweeper):
    """A :class:`~walker_channels.app.Sweeper` that tells when it rests: its last pass found
    nothing to do, so only a wake-up or its interval starts the next one."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.resting = False
        self._passed = asyncio.Event()

    async def sweep(self) -> bool:
        """One pass, noting whether it found work."""
        self.resting = False
        busy = await super().sweep()
        self.resting = not busy
        self._passed.set()
        return busy

    async def rest(self) -> None:
        """Wait until the sweeper rests (the caller bounds the wait)."""
        while not self.resting:
            self._passed.clear()
            await self._passed.wait()
