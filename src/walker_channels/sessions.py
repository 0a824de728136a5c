"""Conversation sessions: one id per tenant, channel and person, renewed after inactivity.

The session id is what an agent keys its memory on, so it must never be shared between
people, tenants or channels; it carries the person's pseudonym, never the raw address.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from walker_channels.models import Channel, SessionMark

DEFAULT_SESSION_TIMEOUT = timedelta(hours=24)


def session_id_for(
    tenant_id: str,
    channel: Channel,
    participant: str,
    *,
    last: SessionMark | None,
    now: datetime,
    timeout: timedelta = DEFAULT_SESSION_TIMEOUT,
) -> str:
    """Keep ``last`` if it was active within ``timeout`` before ``now``; else start a new one."""
    if last is not None and now - last.last_at < timeout:
        return last.session_id
    return f"{tenant_id}:{channel.value}:{participant}:{int(now.timestamp())}"
