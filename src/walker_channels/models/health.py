"""What a health check reports: how much inbound work waits, and for how long."""

from __future__ import annotations

from pydantic import Field

from walker_channels.models.base import AwareDatetime, Frozen


class QueueStats(Frozen):
    """The inbound queue at one moment, for health checks and autoscaling.

    ``waiting`` counts the entries no worker holds (never claimed, or their lease ran out),
    including those waiting behind an older message of their conversation; ``in_progress``
    those under a live lease. Messages joined to another's turn count with neither: they
    leave with it.
    """

    waiting: int = Field(ge=0)
    in_progress: int = Field(ge=0)
    oldest_waiting_at: AwareDatetime | None = None
    """When the oldest waiting entry was queued (``None``: nothing waits)."""
