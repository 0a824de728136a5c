"""What a reviewer reads of a conversation: its record and its messages, with full text.

Only reviewers of the conversation's tenant (and superusers) get this: the text is the
person's own words. The person appears by pseudonym; no address is in any field.
"""

from __future__ import annotations

from walker_channels.models import (
    ConversationEvent,
    ConversationView,
    Direction,
    EventType,
)
from walker_channels.models.base import AwareDatetime, Frozen

_BY_FIELDS = ("by", "decided_by", "agent_id")


class TranscriptEntry(Frozen):
    """One event of a conversation: a message either way, a decision, a handoff."""

    id: str
    type: EventType
    direction: Direction
    occurred_at: AwareDatetime
    text: str = ""
    purpose: str | None = None
    """What a send was (``reply``, ``holding``, ``approved``, ``human``, ...)."""
    by: str | None = None
    """Who acted: the reviewer, the human who replied or took over, or the agent."""


class ConversationDetail(Frozen):
    """A conversation and its latest events, oldest first."""

    conversation: ConversationView
    transcript: tuple[TranscriptEntry, ...]


def transcript_entry(event: ConversationEvent) -> TranscriptEntry:
    """The transcript line of ``event``."""
    purpose = event.data.get("purpose")
    by = next((v for f in _BY_FIELDS if isinstance(v := getattr(event, f, None), str)), None)
    return TranscriptEntry(
        id=event.id,
        type=event.type,
        direction=event.direction,
        occurred_at=event.occurred_at,
        text=getattr(event, "text", ""),
        purpose=purpose if isinstance(purpose, str) else None,
        by=by,
    )
