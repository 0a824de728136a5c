"""Wake-ups within one process (see :class:`~walker_channels.ports.Wakeup`).

Used where there is no ``NOTIFY``: in-memory stores, and SQLite, whose workers in other
processes find a message by their interval poll instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from walker_channels.ports import Wake


class LocalWakeup:
    """``notify`` calls every listener of this process at once."""

    def __init__(self) -> None:
        self._listeners: list[Wake] = []

    async def notify(self, key: str) -> None:
        """Call every listener."""
        for wake in tuple(self._listeners):
            wake()

    @asynccontextmanager
    async def listening(self, wake: Wake) -> AsyncIterator[None]:
        """Call ``wake`` on every :meth:`notify` while the block runs."""
        self._listeners.append(wake)
        try:
            yield
        finally:
            self._listeners.remove(wake)
