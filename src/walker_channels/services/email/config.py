"""How daily briefs are made."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from walker_channels.models.base import Frozen


class BriefConfig(Frozen):
    """How daily briefs are made."""

    template_name: str = "daily_brief"
    agent_id: str | None = "email"
    """The agent asked for recommendations (the seed's "email agent")."""
    agent_timeout: timedelta = timedelta(seconds=20)
    max_recommendations: int = Field(default=5, ge=1, le=20)
    dashboard_url: str | None = None
    """Linked at the end of every brief, when set."""

    @field_validator("agent_timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("agent_timeout must be positive")
        return value
