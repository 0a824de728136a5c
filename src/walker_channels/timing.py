"""Time rules: WhatsApp's 24-hour customer-service window and the review SLA."""

from __future__ import annotations

from datetime import datetime, timedelta

from walker_channels.models import SlaStatus

SERVICE_WINDOW = timedelta(hours=24)
"""Free-form WhatsApp messages are allowed this long after the person's last message."""


def service_window_open(
    last_inbound_at: datetime | None, now: datetime, window: timedelta = SERVICE_WINDOW
) -> bool:
    """Whether free text may be sent: the person wrote within ``window`` before ``now``."""
    return last_inbound_at is not None and now - last_inbound_at < window


def sla_status(
    created_at: datetime, now: datetime, sla: timedelta, *, at_risk_after: float = 0.75
) -> SlaStatus:
    """On track, at risk (past ``at_risk_after`` of the SLA) or breached (past the SLA)."""
    age = now - created_at
    if age >= sla:
        return SlaStatus.BREACHED
    if age >= sla * at_risk_after:
        return SlaStatus.AT_RISK
    return SlaStatus.ON_TRACK
