"""Daily-brief schedules: who gets a brief, at what local time, in which time zone."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from uuid import uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from walker_channels.models.base import AwareDatetime, Frozen


def _new_id() -> str:
    return uuid4().hex


class BriefSchedule(Frozen):
    """Send ``recipient_email`` a daily brief at ``local_time`` in ``timezone`` (IANA name)."""

    id: str = Field(default_factory=_new_id)
    tenant_id: str
    user_id: str
    recipient_email: str = Field(min_length=3, repr=False)
    local_time: time
    timezone: str
    include_analytics: bool = True
    include_campaign_updates: bool = True
    include_recommendations: bool = True
    active: bool = True
    created_at: AwareDatetime

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                "timezone must be an IANA time zone name such as Europe/Berlin"
            ) from exc
        return value


class BriefRunState(StrEnum):
    """A claimed brief run: running, then sent, failed or abandoned.

    A failed run may be claimed again (the retry), and so may one left running past its lease
    (its worker is taken for dead). Sent and abandoned runs are final for their day.
    """

    RUNNING = "running"
    SENT = "sent"
    FAILED = "failed"
    """Temporarily: the next ``run_due`` tries again."""
    ABANDONED = "abandoned"
    """Permanently (a 5xx reply, a refused or invalid address): not tried again that day."""
