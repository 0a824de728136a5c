"""Tenants and the numbers they receive messages on."""

from __future__ import annotations

from pydantic import Field

from walker_channels.models.base import Frozen
from walker_channels.models.messages import Channel


class TenantNumber(Frozen):
    """A number (E.164) or email address a tenant receives messages on, and its channel."""

    address: str = Field(min_length=1, repr=False)
    channel: Channel
    tenant_id: str
    user_id: str | None = None
