"""What a worker claims to answer a queued message: the entry and the records it decides by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from walker_channels.models.approvals import Approval
from walker_channels.models.consent import TenantSettings
from walker_channels.models.conversations import Conversation
from walker_channels.models.events import InboundEvent
from walker_channels.models.inbox import QueuedInbound
from walker_channels.models.outbound import OutboundRecord


@dataclass(frozen=True, slots=True)
class Claim:
    """Which queued entries to lease, as :meth:`~walker_channels.ports.InboundQueue.claim`
    takes them: up to ``limit`` conversation heads, free or whose lease ran out by ``now``,
    leased until ``now + lease``; ``item_id`` / ``conversation`` restrict the claim."""

    now: datetime
    lease: timedelta
    limit: int = 1
    item_id: str | None = None
    conversation: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The tenant's consent settings and whether the person was on its list, at the claim."""

    settings: TenantSettings
    opted_out: bool


@dataclass(frozen=True, slots=True)
class Turn:
    """A claimed entry and what an earlier run left, read in the claim's transaction.

    A plain dataclass, not a model: it only carries models read on the hot path.
    """

    item: QueuedInbound
    recorded: InboundEvent | None
    """The entry's inbound event if this claim stored it (a crash came between queueing and
    recording); ``None`` when it was stored already."""
    approval: Approval | None
    """The approval the entry caused, if an earlier run escalated it."""
    reply_send: OutboundRecord | None
    """The ledger record of the reply (its first part), if an earlier run reserved it."""
    conversation: Conversation | None
    """The entry's conversation (``None``: queued before conversations were recorded)."""
    consent: ConsentState | None
    """``None`` when the store does not read consent (the flow reads it then)."""
