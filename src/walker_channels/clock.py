"""The real clock: the one :class:`~walker_channels.ports.Clock` that reads the system time."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The real time, in UTC (a :class:`~walker_channels.ports.Clock`)."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(UTC)
