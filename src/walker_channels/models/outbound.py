"""The outbound ledger's record: one row per message we meant to send, keyed for idempotency."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from walker_channels.models.base import AwareDatetime, Frozen, JsonObject
from walker_channels.models.messages import Channel, DeliveryStatus, OutboundMessage


class OutboundState(StrEnum):
    """Our side of a send: reserved before the provider is called, settled after."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """The request may have reached the provider: a lookup or a status callback settles it."""


class OutboundPayload(Frozen):
    """What a send needs to be looked up or sent again: the message and its send context.

    Kept with the record until the send is settled as sent, so an unknown outcome can be looked
    up at the provider and a failed send can be retried after a crash. It holds the raw
    address and the text, so it is left out of ``repr`` and dropped once the send went out.
    """

    message: OutboundMessage = Field(repr=False)
    context: JsonObject = Field(default_factory=dict, repr=False)
    """The services' ``SendContext``, as JSON (what the send's events record)."""


class OutboundRecord(Frozen):
    """A reserved or settled send. ``key`` is unique: a second reservation is refused."""

    key: str = Field(min_length=1)
    tenant_id: str | None
    channel: Channel
    participant: str
    state: OutboundState = OutboundState.PENDING
    provider_message_id: str | None = None
    delivery_status: DeliveryStatus | None = None
    error_code: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    attempts: int = Field(default=1, ge=0)
    """How many times the provider was called (or was about to be) under this key."""
    next_attempt_at: AwareDatetime | None = None
    """When a sweep looks the send up (``unknown``) or tries it again (``failed``); ``None``:
    nothing more is done on its own."""
    payload: OutboundPayload | None = Field(default=None, repr=False)


class Settlement(Frozen):
    """How a send ended, for :meth:`~walker_channels.ports.OutboundLedger.settle`.

    The record moves to ``state`` only from one of ``expected`` (a compare-and-set), so of
    concurrent settlements of one send exactly one takes effect.
    """

    state: OutboundState
    at: AwareDatetime
    expected: tuple[OutboundState, ...] = (OutboundState.PENDING,)
    provider_message_id: str | None = None
    error_code: str | None = None
    next_attempt_at: AwareDatetime | None = None

    @property
    def keeps_payload(self) -> bool:
        """Whether the record keeps its payload: until the message went out, it may be needed."""
        return self.state is not OutboundState.SENT


class LookupVerdict(StrEnum):
    """What the provider's records say about a send whose outcome was unknown."""

    FOUND = "found"
    """The provider has the message: it was sent."""
    NOT_FOUND = "not_found"
    """The provider has no such message: nothing went out, so sending it once is safe."""
    UNDECIDABLE = "undecidable"
    """The records cannot tell (a template, several candidates): it stays unknown."""


class LookupResult(Frozen):
    """The answer of a :class:`~walker_channels.ports.SendLookup`."""

    verdict: LookupVerdict
    provider_message_id: str | None = None
    status: DeliveryStatus | None = None
    reason: str = ""
    """Why the lookup could not decide (safe to log: no numbers, no text)."""
