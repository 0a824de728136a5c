"""Inbound work: messages accepted from a webhook and not yet answered."""

from __future__ import annotations

from pydantic import Field

from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.messages import InboundMessage


class SessionMark(Frozen):
    """The latest session a person was in, and when they were last active in it."""

    session_id: str
    last_at: AwareDatetime


class QueuedInbound(Frozen):
    """An accepted inbound message waiting to be processed (held under a lease while claimed)."""

    id: str = Field(min_length=1)
    """The provider message id: one queue entry per message."""
    message: InboundMessage
    tenant_id: str
    session_id: str
    enqueued_at: AwareDatetime
    attempts: int = Field(default=0, ge=0)
