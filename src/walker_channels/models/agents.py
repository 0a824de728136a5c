"""What an agent is asked and what it answers."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field, JsonValue, field_validator

from walker_channels.models.base import Frozen, JsonObject
from walker_channels.models.messages import Address, Channel, Media, StructuredParts


class AgentRequest(StructuredParts):
    """One turn of a conversation handed to an agent.

    The :class:`~walker_channels.models.StructuredParts` of the person's message come with it;
    runners that take only text append :meth:`content_block` to it
    (:func:`walker_channels.agents.text_with_content`).
    """

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

    def content_block(self) -> JsonObject:
        """The structured parts of the message as a compact JSON object; ``{}`` if it has none.

        Only the parts present appear, each without its empty fields, e.g.
        ``{"location": {"latitude": 52.52, "longitude": 13.405}, "forwarded": true}``. Each
        media item gives its URL and content type, in the order sent (a provider may require
        its credentials to open the URL). A quoted message appears by id only, never with its
        sender's number.
        """
        block: JsonObject = {}
        parts: dict[str, BaseModel | None] = {
            "location": self.location,
            "interactive": self.interactive,
            "referral": self.referral,
        }
        for name, part in parts.items():
            if part is not None:
                block[name] = _compact(part)
        if self.reply_to is not None:
            block["reply_to"] = {"message_id": self.reply_to.message_id}
        if self.forwarded or self.frequently_forwarded:
            block["forwarded"] = True
        if self.frequently_forwarded:
            block["frequently_forwarded"] = True
        if self.media:
            block["media"] = [_compact(item) for item in self.media]
        return block


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


def _compact(part: BaseModel) -> JsonValue:
    # exclude_defaults drops the None fields and a referral's zero media count.
    return part.model_dump(mode="json", exclude_defaults=True)
