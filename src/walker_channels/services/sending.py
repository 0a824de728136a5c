"""What a send is for, and what its events record: :class:`SendPurpose`, :class:`SendContext`.

Every send has a purpose, and the purpose derives the send's idempotency key from its cause
(the inbound message, the approval, the caller's own key). A retry or a second worker derives
the same key, finds it taken in the outbound ledger, and sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum

from pydantic import Field, PrivateAttr

from walker_channels.exceptions import TransportError
from walker_channels.models import ConversationEvent, OutboundState, Settlement
from walker_channels.models.base import Frozen, JsonObject
from walker_channels.services.keys import hashed

SettleSent = Callable[[str, Settlement, ConversationEvent | None], Awaitable[bool]]
"""Settles the send of a key as sent and records its event, as
:meth:`~walker_channels.ports.OutboundLedger.settle` does (whether it took effect), in a
transaction of the caller's (see :meth:`OutboundSender.send`)."""


class SendPurpose(StrEnum):
    """Why a message is sent; recorded as the outbound event's ``data["purpose"]``."""

    REPLY = "reply"
    """The agent's answer to an inbound message (cause: the provider message id)."""
    HOLDING = "holding"
    """The holding message while a draft waits for review (cause: the inbound message id)."""
    NOTICE = "notice"
    """The notice to a person who wrote to a number no tenant owns (cause: the message id)."""
    APPROVED = "approved"
    """A draft a reviewer approved (cause: the approval id)."""
    FALLBACK = "fallback"
    """The fallback text a reviewer sent when rejecting a draft (cause: the approval id)."""
    EXPIRY_FALLBACK = "expiry_fallback"
    """The fallback text sent when a draft expired unreviewed (cause: the approval id)."""
    PROACTIVE = "proactive"
    """A send the host started (cause: the caller's idempotency key, per tenant)."""
    CUSTOM_EMAIL = "custom"
    """A custom email (cause: the caller's idempotency key, per tenant)."""
    DAILY_BRIEF = "daily_brief"
    """A daily brief (cause: the schedule's run, or the recipient and day, per tenant)."""
    HUMAN = "human"
    """A human's reply in a conversation they took over (cause: the caller's key, per tenant)."""

    @property
    def from_agent(self) -> bool:
        """Whether the text is the agent's own (so its agent id and confidence are recorded)."""
        return self in (SendPurpose.REPLY, SendPurpose.APPROVED)

    @property
    def retried_later(self) -> bool:
        """Whether a retryable failure is tried again by the sweeps: text a person decided on."""
        return self in (SendPurpose.APPROVED, SendPurpose.FALLBACK)

    @property
    def needs_consent(self) -> bool:
        """Whether a person who opted out is spared this send: everything people start
        (the agent is not run for them, so its replies and holding messages do not arise)."""
        return self in (
            SendPurpose.PROACTIVE,
            SendPurpose.HUMAN,
            SendPurpose.APPROVED,
            SendPurpose.FALLBACK,
            SendPurpose.EXPIRY_FALLBACK,
        )

    @property
    def key_prefix(self) -> str:
        """How the keys of this purpose's sends begin."""
        return f"{_PREFIXES[self]}:"

    @classmethod
    def of_key(cls, key: str) -> SendPurpose | None:
        """The purpose whose sends have keys like ``key``, if any."""
        prefix = key.partition(":")[0]
        return next((p for p, known in _PREFIXES.items() if known == prefix), None)

    def key(self, cause: str, *, tenant_id: str | None = None) -> str:
        """The ledger key of the send this purpose makes for ``cause``.

        Caller-given causes are free text (they might hold a phone number or an address, and
        keys end up in events, logs and callback URLs), so they are hashed, per tenant.
        """
        prefix = _PREFIXES[self]
        if self in _CALLER_KEYED:
            if not tenant_id:
                raise ValueError(f"a {self.value} send is keyed per tenant: give tenant_id")
            return f"{prefix}:{tenant_id}:{hashed(cause)}"
        return f"{prefix}:{cause}"


_PREFIXES = {
    SendPurpose.REPLY: "reply",
    SendPurpose.HOLDING: "holding",
    SendPurpose.NOTICE: "notice",
    SendPurpose.APPROVED: "approval",
    SendPurpose.FALLBACK: "fallback",
    SendPurpose.EXPIRY_FALLBACK: "expiry",
    SendPurpose.PROACTIVE: "proactive",
    SendPurpose.CUSTOM_EMAIL: "email",
    SendPurpose.DAILY_BRIEF: "brief",
    SendPurpose.HUMAN: "human",
}
_CALLER_KEYED = frozenset(
    {
        SendPurpose.PROACTIVE,
        SendPurpose.CUSTOM_EMAIL,
        SendPurpose.DAILY_BRIEF,
        SendPurpose.HUMAN,
    }
)


class SendContext(Frozen):
    """One send's purpose and cause (which give its key) and what its events record."""

    purpose: SendPurpose
    cause: str = Field(min_length=1)
    tenant_id: str | None
    agent_id: str | None = None
    confidence: float | None = None
    response_time_ms: float | None = None
    hitl: bool = False
    session_id: str | None = None
    data: JsonObject = Field(default_factory=dict)
    """More fields for the event's ``data`` (``purpose`` is always set from :attr:`purpose`)."""

    @property
    def key(self) -> str:
        """The ledger key: at most one send per key, ever."""
        return self.purpose.key(self.cause, tenant_id=self.tenant_id)


class SendReceipt(Frozen):
    """How a send under ``key`` ended; ``duplicate`` when the key was taken and nothing was sent."""

    key: str
    state: OutboundState
    duplicate: bool = False
    provider_message_id: str | None = None
    error_code: str | None = None
    retryable: bool = False
    fallback_template: bool = False
    """The channel's service window had closed, so the tenant's fallback template went out
    instead of the message asked for."""
    _error: TransportError | None = PrivateAttr(default=None)

    def with_error(self, error: TransportError) -> SendReceipt:
        """This receipt, holding the transport's error for :meth:`raise_for_failure`."""
        self._error = error
        return self

    def raise_for_failure(self) -> SendReceipt:
        """Raise the transport's error if this send failed (it is recorded already)."""
        if self._error is not None:
            raise self._error
        return self
