"""Settings of the conversation, review and sending services (one frozen model)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum

from pydantic import Field, SecretStr, field_validator, model_validator

from walker_channels.models.approvals import EscalationReason
from walker_channels.models.base import Frozen
from walker_channels.privacy import pseudonymize
from walker_channels.routing import RoutingPolicy
from walker_channels.services.send_policy import SendRecoveryPolicy
from walker_channels.sessions import DEFAULT_SESSION_TIMEOUT

DEFAULT_HOLDING_MESSAGE = (
    "Thanks for your message. A member of our team will get back to you shortly."
)


class ExpiryPolicy(StrEnum):
    """What happens to a draft still pending at its deadline."""

    EXPIRE = "expire"
    """Mark it expired; nobody is told."""
    FALLBACK = "fallback"
    """Mark it expired and send the person ``expiry_fallback_text``."""
    RENOTIFY = "renotify"
    """Keep it pending and remind the reviewers (through the host's notifier) on every sweep."""


class SentimentAction(StrEnum):
    """What happens to a message that scores below ``sentiment_threshold``."""

    ESCALATE = "escalate"
    """The agent answers, and its reply goes to human review (``negative_sentiment``)."""
    HANDOFF = "handoff"
    """The conversation is handed to a human before the agent runs."""


class ServiceConfig(Frozen):
    """Everything the services need besides their ports. Durations accept seconds or ISO 8601."""

    pseudonym_key: SecretStr = Field(repr=False)
    """Server secret for participant pseudonyms (HMAC): keep it stable, or pseudonyms change."""
    holding_message: str = DEFAULT_HOLDING_MESSAGE
    """Sent to the person while a draft waits for review."""
    unknown_tenant_notice: str | None = None
    """Answer to messages sent to a number no tenant owns; ``None`` answers nothing."""
    default_agent_type: str = Field(default="agent", min_length=1)
    """Agent type shown on drafts whose agent failed before naming itself."""
    tenant_agents: Mapping[str, str] = Field(default_factory=dict)
    """Which Walker Agent serves each tenant (``AgentRequest.agent_id``; runners pick by it)."""
    agent_timeout: timedelta = timedelta(seconds=10)
    processing_lease: timedelta = timedelta(seconds=30)
    """How long a claim holds an accepted message without renewal. A live worker renews it
    (every third of it) while it works, so only a dead worker's messages wait this long."""
    coalesce_bursts: bool = False
    """Answer the messages a person sent while the agent was busy with one turn, together."""
    max_reply_parts: int = Field(default=10, ge=1)
    """A reply longer than the channel's limit is sent in up to this many parts, else escalated."""
    send_recovery: SendRecoveryPolicy = Field(default_factory=SendRecoveryPolicy)
    """How failed sends are retried and unknown ones looked up (``OutboundSender.settle_due``)."""
    max_attempts: int = Field(default=3, ge=1)
    """Runs of the agent for one message; a message that keeps crashing is escalated after."""
    approval_deadline: timedelta | None = timedelta(hours=24)
    """Drafts pending this long follow ``expiry_policy``; ``None``: they never expire."""
    review_sla: timedelta = timedelta(hours=1)
    expiry_policy: ExpiryPolicy = ExpiryPolicy.EXPIRE
    expiry_fallback_text: str | None = None
    routing: RoutingPolicy = Field(default_factory=RoutingPolicy)
    session_timeout: timedelta = DEFAULT_SESSION_TIMEOUT
    preview_length: int = Field(default=50, ge=1)
    handoff_keywords: frozenset[str] = frozenset()
    """A message that is one of these words (any case, punctuation aside) asks for a human."""
    handoff_reasons: frozenset[EscalationReason] = frozenset()
    """Escalations for these reasons also hand the conversation to a human."""
    handoff_idle_timeout: timedelta | None = timedelta(hours=1)
    """A human-mode conversation this long without a message either way goes back to the
    agent; ``None``: it stays with the human until released."""
    sentiment_threshold: float = Field(default=-0.5, ge=-1.0, le=1.0)
    """A message scoring below this (with a ``SentimentScorer``) gets ``sentiment_action``."""
    sentiment_action: SentimentAction = SentimentAction.ESCALATE

    def agent_for(self, tenant_id: str) -> str | None:
        """The agent configured for ``tenant_id``, if any."""
        return self.tenant_agents.get(tenant_id)

    @field_validator("pseudonym_key")
    @classmethod
    def _key_present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("a pseudonym key is required (WALKER_PSEUDONYM_KEY)")
        return value

    @field_validator("holding_message")
    @classmethod
    def _holding_text_present(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the holding message must not be empty")
        return value

    @field_validator(
        "agent_timeout",
        "processing_lease",
        "approval_deadline",
        "review_sla",
        "session_timeout",
        "handoff_idle_timeout",
    )
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("durations must be positive")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceConfig:
        if self.expiry_policy is ExpiryPolicy.FALLBACK and not (
            self.expiry_fallback_text and self.expiry_fallback_text.strip()
        ):
            raise ValueError("the fallback expiry policy needs expiry_fallback_text")
        return self

    @field_validator("handoff_keywords")
    @classmethod
    def _folded(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(word.strip().casefold() for word in value if word.strip())

    def asks_for_human(self, text: str) -> bool:
        """Whether a line of ``text`` is one of the handoff keywords."""
        lines = (line.strip().strip(".,!?¡¿").strip().casefold() for line in text.splitlines())
        return any(line in self.handoff_keywords for line in lines)

    def pseudonym(self, identifier: str) -> str:
        """The keyed pseudonym of an address value (phone number or email)."""
        return pseudonymize(identifier, self.pseudonym_key.get_secret_value())
