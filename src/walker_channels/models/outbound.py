"""The outbound ledger's record: one row per message we meant to send, keyed for idempotency."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.messages import Channel, DeliveryStatus


class OutboundState(StrEnum):
    """Our side of a send: reserved before the provider is called, settled after."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    """The request may have reached the provider; a status callback settles it."""


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
