"""What an operator sees of a send that did not settle as sent: no address, no text."""

from __future__ import annotations

from walker_channels.models import Channel, OutboundRecord, OutboundState
from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.services.sending import SendPurpose


class UnsettledSend(Frozen):
    """One ``unknown`` or ``failed`` send, anonymised (the person as a pseudonym)."""

    key: str
    tenant_id: str | None
    channel: Channel
    participant: str
    """The person's keyed pseudonym."""
    purpose: SendPurpose | None
    state: OutboundState
    error_code: str | None
    attempts: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    next_attempt_at: AwareDatetime | None
    """When a sweep acts on it next; ``None``: only an operator's resend will."""
    resendable: bool
    """Whether the message is still held, so ``resend`` can send it."""


def unsettled_send(record: OutboundRecord) -> UnsettledSend:
    """The operator's view of ``record``."""
    return UnsettledSend(
        key=record.key,
        tenant_id=record.tenant_id,
        channel=record.channel,
        participant=record.participant,
        purpose=SendPurpose.of_key(record.key),
        state=record.state,
        error_code=record.error_code,
        attempts=record.attempts,
        created_at=record.created_at,
        updated_at=record.updated_at,
        next_attempt_at=record.next_attempt_at,
        resendable=record.payload is not None,
    )
