"""What a daily brief reports: figures and campaign news from the host application."""

from __future__ import annotations

from pydantic import Field

from walker_channels.models.base import Frozen


class BriefMetric(Frozen):
    """One figure in a brief's analytics section, e.g. "Replies sent: 42 (+5%)"."""

    label: str = Field(min_length=1, max_length=200)
    value: int | float | str
    unit: str = Field(default="", max_length=20)
    change_pct: float | None = None
    """Change against the previous period, in percent, when the source knows it."""


class CampaignUpdate(Frozen):
    """News about one campaign for a brief's campaign section."""

    name: str = Field(min_length=1, max_length=200)
    status: str = Field(min_length=1, max_length=50)
    summary: str = Field(default="", max_length=2000)
