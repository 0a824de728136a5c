"""Conversations: one record per tenant, channel and person, with who is answering it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.inbox import SessionMark
from walker_channels.models.messages import Address, Channel
from walker_channels.models.monitoring import Scope


class ConversationMode(StrEnum):
    """Who answers a conversation's messages."""

    AGENT = "agent"
    """The agent (the default)."""
    HUMAN = "human"
    """A person took it over: messages are recorded and shown, the agent is not run."""


class Conversation(Frozen):
    """A conversation of one person with one tenant on one channel.

    ``id`` is :func:`walker_channels.models.ids.conversation_id_for`: a digest of tenant,
    channel and pseudonym, safe to show. ``address`` and ``reply_from`` are what a reply
    needs; they never leave the service layer (see :class:`ConversationView`).
    """

    id: str = Field(min_length=1)
    tenant_id: str
    channel: Channel
    participant: str
    """The person's keyed pseudonym."""
    address: Address | None = Field(default=None, repr=False)
    """The person's raw address, to reply to; ``None`` once erased."""
    reply_from: str | None = None
    """The tenant's address the person wrote to: replies are sent from it."""
    mode: ConversationMode = ConversationMode.AGENT
    taken_by: str | None = None
    """Who took it over (a user id, ``person`` or ``agent``), while in human mode."""
    mode_since: AwareDatetime
    last_inbound_at: AwareDatetime | None = None
    last_activity_at: AwareDatetime | None = None
    """The latest message either way (the session is renewed after inactivity)."""
    session_id: str | None = None

    def session(self) -> SessionMark | None:
        """The session this conversation is in, and when it was last active."""
        if self.session_id is None or self.last_activity_at is None:
            return None
        return SessionMark(session_id=self.session_id, last_at=self.last_activity_at)

    def view(self) -> ConversationView:
        """The record as the admin API shows it: no address."""
        return ConversationView.model_validate(self.model_dump(exclude={"address", "reply_from"}))


class ConversationView(Frozen):
    """A conversation without its addresses: what admin answers and hooks carry."""

    id: str
    tenant_id: str
    channel: Channel
    participant: str
    mode: ConversationMode
    taken_by: str | None = None
    mode_since: AwareDatetime
    last_inbound_at: AwareDatetime | None = None
    last_activity_at: AwareDatetime | None = None
    session_id: str | None = None


class ConversationQuery(Frozen):
    """Which conversations to list (most recently active first)."""

    scope: Scope
    mode: ConversationMode | None = None
    channel: Channel | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
