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


class AcceptResult(Frozen):
    """What :meth:`ConversationService.accept` did, and what a dispatcher needs to go on."""

    outcome: AcceptOutcome
    message_id: str
    """The provider message id, which is also the queue entry id."""
    conversation: str | None = None
    """The conversation key (its order is kept by it); ``None`` when no tenant owns the
    number the message was sent to."""


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
    OPTED_OUT = "opted_out"
    """The person opted out (with this message or before): recorded, the agent not run."""
    CONSENT_KEYWORD = "consent_keyword"
    """A START-style keyword lifted an opt-out, or the provider answered the keyword itself
    (Twilio's ``OptOutType``): recorded, the agent not run."""


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
