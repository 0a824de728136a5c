"""The polling dispatcher: the web process only accepts; ``walker-channels worker`` answers."""

from __future__ import annotations

from walker_channels.ports import AfterResponse, Wakeup


class PollingDispatcher:
    """Wakes the workers, which claim the message from the inbox (``queue`` processing).

    The wake-up is a hint: a worker that misses it (asleep across processes on SQLite, or
    not yet listening) still finds the message at its next interval sweep.
    """

    def __init__(self, wakeup: Wakeup) -> None:
        self._wakeup = wakeup

    async def dispatch(self, message_id: str, *, conversation: str) -> AfterResponse | None:
        """Tell the workers that ``conversation`` has a message waiting."""
        await self._wakeup.notify(conversation)
        return None
