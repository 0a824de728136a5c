"""Inbound work: messages accepted from a webhook and not yet answered."""

from __future__ import annotations

from pydantic import Field

from walker_channels.models.agents import AgentReply
from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.messages import InboundMessage


class SessionMark(Frozen):
    """The latest session a person was in, and when they were last active in it."""

    session_id: str
    last_at: AwareDatetime


class HeldReply(Frozen):
    """The agent's reply to a queued message, kept with it until every part is sent.

    A worker that dies while sending a long reply in parts leaves it here, so the next one
    sends the remaining parts of the same reply instead of asking the agent again.
    """

    reply: AgentReply
    response_time_ms: float = Field(ge=0)


class QueuedInbound(Frozen):
    """An accepted inbound message waiting to be processed (held under a lease while claimed).

    Entries of one ``conversation`` are processed one at a time, oldest first.
    """

    id: str = Field(min_length=1)
    """The provider message id: one queue entry per message."""
    message: InboundMessage
    tenant_id: str
    session_id: str
    conversation: str = Field(min_length=1)
    """The conversation key (tenant, channel and participant pseudonym; no raw address)."""
    enqueued_at: AwareDatetime
    attempts: int = Field(default=0, ge=0)
    reply: HeldReply | None = None
    """The reply being sent, once the agent gave one that goes out (see :class:`HeldReply`)."""
