"""What the conversation flow reports: accepted or not, then replied, escalated or skipped."""

from __future__ import annotations

from enum import StrEnum

from walker_channels.models import OutboundState
from walker_channels.models.base import Frozen


class AcceptOutcome(StrEnum):
    """What :meth:`ConversationService.accept` did with a message."""

    ACCEPTED = "accepted"
    """Recorded and queued: process it (the queue entry id is the provider message id)."""
    DUPLICATE = "duplicate"
    """Seen before: nothing was done."""
    UNKNOWN_TENANT = "unknown_tenant"
    """Sent to a number no tenant owns: recorded, and answered with the notice if configured."""


class ProcessOutcome(StrEnum):
    """What :meth:`ConversationService.process` did with a queued message."""

    REPLIED = "replied"
    REPLY_FAILED = "reply_failed"
    REPLY_UNCONFIRMED = "reply_unconfirmed"
    """The provider may have the reply; its delivery callback settles the ledger."""
    ESCALATED = "escalated"
    ALREADY_HANDLED = "already_handled"
    """An earlier run replied or escalated (any step it left unfinished was finished now)."""
    NOT_CLAIMED = "not_claimed"
    """Another worker holds the message, or it was processed and removed already."""
    HUMAN = "human"
    """A human has the conversation: the message is recorded for them, the agent not run."""
    HANDED_OFF = "handed_off"
    """The person or the agent asked for a human: the conversation is in human mode now."""


class Handled(Frozen):
    """The result of :meth:`ConversationService.handle`: accepted, then (if so) processed."""

    accepted: AcceptOutcome
    processed: ProcessOutcome | None = None


REPLY_OUTCOMES: dict[OutboundState, ProcessOutcome] = {
    OutboundState.SENT: ProcessOutcome.REPLIED,
    OutboundState.FAILED: ProcessOutcome.REPLY_FAILED,
    OutboundState.UNKNOWN: ProcessOutcome.REPLY_UNCONFIRMED,
    OutboundState.PENDING: ProcessOutcome.ALREADY_HANDLED,
}
"""The process outcome of each state a reply send can end in."""
