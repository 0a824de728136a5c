"""Conversations in memory: the twin of ``walker_channels.sql.conversations``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from walker_channels.models import (
    Conversation,
    ConversationEvent,
    ConversationMode,
    ConversationQuery,
)
from walker_channels.testing.fakes import InMemoryEventStore, in_scope


def _later(old: datetime | None, new: datetime | None) -> datetime | None:
    if old is None or new is None:
        return old or new
    return max(old, new)


def _quiet_since(conversation: Conversation, before: datetime) -> bool:
    active = conversation.last_activity_at
    return conversation.mode_since < before and (active is None or active < before)


class InMemoryConversationStore:
    """A :class:`~walker_channels.ports.ConversationStore` in a dict; transcripts come from
    ``events``."""

    def __init__(self, events: InMemoryEventStore | None = None) -> None:
        self.conversations: dict[str, Conversation] = {}
        self.events = events if events is not None else InMemoryEventStore()

    async def upsert(self, conversation: Conversation) -> Conversation:
        """Insert, or update the address, session and times of the stored one."""
        old = self.conversations.get(conversation.id)
        if old is not None:
            conversation = old.replace(
                address=conversation.address,
                reply_from=conversation.reply_from,
                session_id=conversation.session_id,
                last_inbound_at=_later(old.last_inbound_at, conversation.last_inbound_at),
                last_activity_at=_later(old.last_activity_at, conversation.last_activity_at),
            )
        self.conversations[conversation.id] = conversation
        return conversation

    async def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with this id."""
        return self.conversations.get(conversation_id)

    async def find(self, query: ConversationQuery) -> Sequence[Conversation]:
        """Conversations in scope, most recently active first."""
        found = [
            c
            for c in self.conversations.values()
            if in_scope(query.scope, c.tenant_id)
            and (query.mode is None or c.mode is query.mode)
            and (query.channel is None or c.channel is query.channel)
        ]
        found.sort(key=lambda c: c.id)
        found.sort(key=lambda c: c.last_activity_at or c.mode_since, reverse=True)
        return found[query.offset : query.offset + query.limit]

    async def switch(
        self,
        conversation_id: str,
        *,
        to: ConversationMode,
        by: str | None,
        at: datetime,
        idle_before: datetime | None = None,
    ) -> Conversation | None:
        """Compare-and-set from the other mode (no ``await`` between check and write)."""
        conversation = self.conversations.get(conversation_id)
        if conversation is None or conversation.mode is to:
            return None
        if idle_before is not None and not _quiet_since(conversation, idle_before):
            return None
        taken_by = by if to is ConversationMode.HUMAN else None
        switched: Conversation = conversation.replace(mode=to, taken_by=taken_by, mode_since=at)
        self.conversations[conversation_id] = switched
        return switched

    async def idle(self, before: datetime, *, limit: int = 100) -> Sequence[Conversation]:
        """Human-mode conversations quiet since ``before``."""
        quiet = [
            c
            for c in self.conversations.values()
            if c.mode is ConversationMode.HUMAN and _quiet_since(c, before)
        ]
        return sorted(quiet, key=lambda c: (c.mode_since, c.id))[:limit]

    async def touch(self, conversation_id: str, *, at: datetime) -> None:
        """Move ``last_activity_at`` forward to ``at``."""
        conversation = self.conversations.get(conversation_id)
        if conversation is not None:
            later = _later(conversation.last_activity_at, at)
            self.conversations[conversation_id] = conversation.replace(last_activity_at=later)

    async def transcript(
        self, conversation: Conversation, *, limit: int = 200
    ) -> Sequence[ConversationEvent]:
        """The latest ``limit`` events of the conversation's person, oldest first."""
        theirs = [
            e
            for e in self.events.events
            if e.tenant_id == conversation.tenant_id
            and e.channel is conversation.channel
            and e.participant == conversation.participant
        ]
        theirs.sort(key=lambda e: (e.occurred_at, e.id))
        return theirs[-limit:]

    def erase(self, tenant_id: str, participant: str) -> int:
        """Drop the person's conversations in ``tenant_id`` (erasure); how many went."""
        doomed = [
            key
            for key, c in self.conversations.items()
            if c.tenant_id == tenant_id and c.participant == participant
        ]
        for key in doomed:
            del self.conversations[key]
        return len(doomed)
