"""Read models for admin monitoring: queries in, anonymised results out."""

from __future__ import annotations

from datetime import timedelta
from typing import Generic, TypeVar

from pydantic import Field, computed_field

from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.events import Direction, EventType
from walker_channels.models.ids import conversation_id_for
from walker_channels.models.messages import Channel

T = TypeVar("T")


class Scope(Frozen):
    """Which tenants a read may see: ``None`` means all (superusers only)."""

    tenant_ids: frozenset[str] | None


class LogQuery(Frozen):
    """Filters and keyset pagination for the conversation log (newest first)."""

    scope: Scope
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    """Exclusive upper bound."""
    channel: Channel | None = None
    direction: Direction | None = None
    participant: str | None = None
    """One person's pseudonym: their conversation only."""
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None
    """Opaque: the ``next_cursor`` of the previous page."""
    preview_length: int = Field(default=50, ge=1, le=2000)
    """How many characters of each message the (redacted) preview keeps."""


class LogEntry(Frozen):
    """One anonymised log row: pseudonym and a short preview, never the raw address or text."""

    id: str
    tenant_id: str | None
    channel: Channel
    type: EventType
    direction: Direction
    occurred_at: AwareDatetime
    participant: str
    preview: str
    agent_id: str | None = None
    confidence: float | None = None
    response_time_ms: float | None = None
    session_id: str | None = None
    error_code: str | None = None
    """A failed send's or a delivery report's provider error code."""
    outcome_unknown: bool = False
    """A send attempt that may have reached the provider (see the unsettled sends)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def conversation_id(self) -> str | None:
        """The conversation this entry belongs to (``None`` for a number no tenant owns)."""
        if self.tenant_id is None:
            return None
        return conversation_id_for(self.tenant_id, self.channel, self.participant)


class Page(Frozen, Generic[T]):
    """A page of results and the cursor of the next page (``None`` on the last)."""

    items: tuple[T, ...]
    next_cursor: str | None = None


class StatsQuery(Frozen):
    """Time range and filters for aggregate statistics."""

    scope: Scope
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    channel: Channel | None = None
    uptime_window: timedelta = timedelta(hours=1)
    """Per-agent uptime is the share of these windows (with traffic) that had no error."""


class ConfidenceBucket(Frozen):
    """Agent outcomes with a confidence in ``[lower, upper)`` (the last bucket includes 1)."""

    lower: float
    upper: float
    count: int


class AgentCount(Frozen):
    """An agent and how many interactions it had."""

    agent_id: str
    interactions: int


class ConversationStats(Frozen):
    """Aggregates over the conversation log."""

    inbound_total: int
    outbound_total: int
    failed_total: int
    escalated_total: int
    avg_response_ms: float | None
    p50_response_ms: float | None
    """Median response time of the agent outcomes: an estimate within 0.5 % of the exact
    (interpolated) percentile, from a 1 % log histogram (``metrics.response_percentiles``)."""
    p95_response_ms: float | None
    """95th percentile response time, within 0.5 % as ``p50_response_ms``."""
    p99_response_ms: float | None
    """99th percentile response time, within 0.5 % as ``p50_response_ms``."""
    confidence_buckets: tuple[ConfidenceBucket, ...]
    hitl_rate: float | None
    """Escalations over agent outcomes (the agent's own answers: ``walker_channels.metrics``)."""
    success_rate: float | None
    """Sent over attempted sends (sent + failed)."""
    unique_users: int
    """Distinct people: exact from the events, an estimate (HyperLogLog, relative standard
    error 0.4 %) where the range holds days rolled up by the SQL stores (``sql.rollups``)."""
    hourly_distribution: tuple[int, ...]
    """Inbound messages per hour of day (UTC), 24 entries."""
    top_agents: tuple[AgentCount, ...]
    unknown_recipient_messages: int | None = None
    """Messages to a number no tenant owns; only in a read over every tenant, else ``None``."""
    handoffs_total: int = 0
    """Conversations handed to a human (``handoff_started`` events)."""
    human_replies_total: int = 0
    """Messages a human sent in a conversation they took over (``human_reply`` events)."""
    opt_outs: int = 0
    """People who opted out of a tenant's messages on a channel (``opted_out`` events)."""
    opt_ins: int = 0
    """Opt-outs lifted by a START-style keyword or an operator (``opted_in`` events)."""
    avg_sentiment: float | None = None
    """The mean sentiment score of the scored inbound messages (``walker_channels.metrics``)."""


class AgentAnalytics(Frozen):
    """How one agent performs."""

    agent_id: str
    interactions: int
    avg_response_ms: float | None
    avg_confidence: float | None
    hitl_rate: float | None
    success_rate: float | None
    error_rate: float | None
    uptime: float | None
    handoffs: int = 0
    """Conversations handed from this agent to a human."""
    human_replies: int = 0
    """Messages humans sent in the conversations taken from this agent."""
    avg_sentiment: float | None = None
    """The mean sentiment score of the scored inbound messages of the sessions this agent
    answered in (``walker_channels.metrics``)."""
