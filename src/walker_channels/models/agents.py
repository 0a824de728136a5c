"""What an agent is asked and what it answers."""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from walker_channels.models.base import Frozen, JsonObject
from walker_channels.models.messages import Address, Channel, Media


class AgentRequest(Frozen):
    """One turn of a conversation handed to an agent."""

    tenant_id: str
    session_id: str = Field(min_length=1)
    """Stable per tenant, channel and person, so the agent keeps memory per person."""
    channel: Channel
    participant: Address
    text: str
    media: tuple[Media, ...] = ()
    message_id: str | None = None
    agent_id: str | None = None
    """Which agent the tenant wants; runners that serve several agents use it."""
    metadata: JsonObject = Field(default_factory=dict)


class AgentReply(Frozen):
    """An agent's answer. ``confidence`` is ``None`` when the agent gives none (that escalates)."""

    text: str
    confidence: float | None = None
    agent_id: str
    metadata: JsonObject = Field(default_factory=dict)

    @field_validator("confidence")
    @classmethod
    def _finite_unit_interval(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ValueError("confidence must be a finite number between 0 and 1")
        return value
