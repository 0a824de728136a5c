"""What accepting an inbound message writes, and what the accept store answers."""

from __future__ import annotations

from dataclasses import dataclass

from walker_channels.models.conversations import Conversation
from walker_channels.models.events import InboundEvent
from walker_channels.models.inbox import QueuedInbound


@dataclass(frozen=True, slots=True)
class Arrival:
    """An inbound message's three records, written together by an accept store.

    A plain dataclass, not a model: it only carries models built on the hot path.
    """

    conversation: Conversation
    """The conversation row to insert or update (with the message's session)."""
    item: QueuedInbound
    event: InboundEvent


@dataclass(frozen=True, slots=True)
class Admission:
    """What an accept store did: ``tenant_id`` ``None``: nobody owns the recipient, nothing was
    written; ``arrival`` ``None``: a duplicate (its inbound event was stored before)."""

    tenant_id: str | None
    arrival: Arrival | None = None
