"""The schema: SQLAlchemy Core tables for every store, with the indexes the admin reads use.

Table names carry a ``walker_`` prefix so they can live in the host application's database.
Times are stored in UTC (see :class:`UtcDateTime`). Migrations in ``migrations/versions``
create exactly this schema; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

from walker_channels.exceptions import InvalidInput
from walker_channels.sql import triggers

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
"""Every walker-channels table."""

Json = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL."""


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC (naive UTC text on SQLite) and read back aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; SQLite stores it without an offset so text order is time order."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise InvalidInput("times must be timezone-aware")
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        stamp: datetime = value
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _key(length: int = 64) -> sa.String:
    return sa.String(length)


events = sa.Table(
    "walker_events",
    metadata,
    sa.Column("id", _key(), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("participant", sa.String(128), nullable=False),
    sa.Column("agent_id", sa.String(128), nullable=True),
    sa.Column("confidence", sa.Float(), nullable=True),
    sa.Column("response_time_ms", sa.Float(), nullable=True),
    sa.Column("hitl", sa.Boolean(), nullable=True),
    sa.Column("success", sa.Boolean(), nullable=True),
    sa.Column("is_error", sa.Boolean(), nullable=False),
    sa.Column("provider_message_id", sa.String(128), nullable=True),
    sa.Column("session_id", sa.String(255), nullable=True),
    sa.Column("idempotency_key", sa.String(255), nullable=True, unique=True),
    sa.Column("data", Json, nullable=False),
    sa.Column("sentiment", sa.Float(), nullable=True),
    sa.Index(None, "tenant_id", "occurred_at", "id"),
    sa.Index(None, "tenant_id", "channel", "occurred_at"),
    sa.Index(None, "tenant_id", "direction", "occurred_at"),
    # Time order for the log's keyset pages, and every column the admin aggregates read, so
    # they scan this index instead of the wide rows (SQLite: a covering index; PostgreSQL:
    # an index-only scan once autovacuum has run).
    sa.Index(
        "ix_walker_events_aggregates",
        "occurred_at",
        "id",
        "type",
        "tenant_id",
        "channel",
        "agent_id",
        "participant",
        "confidence",
        "response_time_ms",
        "is_error",
        "hitl",
    ),
    sa.Index(None, "tenant_id", "channel", "participant", "occurred_at"),
)

approvals = sa.Table(
    "walker_approvals",
    metadata,
    sa.Column("id", _key(), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("participant", sa.String(128), nullable=False),
    sa.Column("recipient", Json, nullable=True),
    sa.Column("agent_type", sa.String(128), nullable=False),
    sa.Column("action_type", sa.String(64), nullable=False),
    sa.Column("action_data", Json, nullable=False),
    sa.Column("proposed_text", sa.Text(), nullable=False),
    sa.Column("confidence", sa.Float(), nullable=True),
    sa.Column("risk_level", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("inbound_message_id", sa.String(128), nullable=True),
    sa.Column("session_id", sa.String(255), nullable=True),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("final_text", sa.Text(), nullable=True),
    sa.Index(None, "status", "created_at", "id"),
    sa.Index(None, "tenant_id", "status", "created_at"),
    sa.Index(None, "status", "expires_at"),
)

outbound = sa.Table(
    "walker_outbound",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("participant", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("provider_message_id", sa.String(128), nullable=True, index=True),
    sa.Column("delivery_status", sa.String(32), nullable=True),
    sa.Column("delivery_rank", sa.Integer(), nullable=True),
    sa.Column("error_code", sa.String(64), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("payload", Json, nullable=True),
    sa.Index(None, "next_attempt_at"),
    sa.Index(None, "state", "created_at", "key"),
)

inbound_queue = sa.Table(
    "walker_inbound_queue",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=False),
    sa.Column("session_id", sa.String(255), nullable=False),
    sa.Column("conversation", sa.String(255), nullable=False),
    sa.Column("message", Json, nullable=False),
    sa.Column("enqueued_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("leased_until", UtcDateTime(), nullable=True),
    sa.Column("reply", Json, nullable=True),
    sa.Column("joined_to", sa.String(128), nullable=True),
    sa.Index(None, "enqueued_at", "id"),
    sa.Index(None, "conversation", "enqueued_at", "id"),
    sa.Index(None, "joined_to"),
)

tenant_numbers = sa.Table(
    "walker_tenant_numbers",
    metadata,
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=False, index=True),
    sa.Column("user_id", sa.String(128), nullable=True),
)
"""An address is owned on one channel: ``+E164`` on SMS and on WhatsApp are two rows."""

tenant_numbers_version = sa.Table(
    "walker_tenant_numbers_version",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger(), nullable=False),
)
"""One row (``id`` 1), counting changes to ``walker_tenant_numbers``; absent until the first."""

conversations = sa.Table(
    "walker_conversations",
    metadata,
    sa.Column("id", _key(), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("participant", sa.String(128), nullable=False),
    sa.Column("address", sa.String(320), nullable=True),
    sa.Column("reply_from", sa.String(320), nullable=True),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("taken_by", sa.String(128), nullable=True),
    sa.Column("mode_since", UtcDateTime(), nullable=False),
    sa.Column("last_inbound_at", UtcDateTime(), nullable=True),
    sa.Column("last_activity_at", UtcDateTime(), nullable=True),
    sa.Column("session_id", sa.String(255), nullable=True),
    sa.Index(None, "tenant_id", "last_activity_at"),
    sa.Index(None, "mode", "mode_since"),
    sa.Index(None, "tenant_id", "participant"),
)
"""One row per tenant, channel and pseudonym; ``address`` is the raw one a reply needs."""

erasures = sa.Table(
    "walker_erasures",
    metadata,
    sa.Column("id", _key(), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=False),
    sa.Column("participant", sa.String(128), nullable=False),
    sa.Column("requested_by", sa.String(128), nullable=False),
    sa.Column("erased_at", UtcDateTime(), nullable=False),
    sa.Column("removed", Json, nullable=False),
    sa.Index(None, "tenant_id", "erased_at"),
)
"""One row per erasure done: the pseudonym, never the number (see ``sql.privacy``)."""

brief_schedules = sa.Table(
    "walker_brief_schedules",
    metadata,
    sa.Column("id", _key(), primary_key=True),
    sa.Column("tenant_id", _key(), nullable=False, index=True),
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("recipient_email", sa.String(320), nullable=False),
    sa.Column("local_time", sa.Time(), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("include_analytics", sa.Boolean(), nullable=False),
    sa.Column("include_campaign_updates", sa.Boolean(), nullable=False),
    sa.Column("include_recommendations", sa.Boolean(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

brief_runs = sa.Table(
    "walker_brief_runs",
    metadata,
    sa.Column(
        "schedule_id",
        _key(),
        sa.ForeignKey(brief_schedules.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("local_date", sa.Date(), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("claimed_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("error", sa.Text(), nullable=False),
)

opt_outs = sa.Table(
    "walker_opt_outs",
    metadata,
    sa.Column("tenant_id", _key(), primary_key=True),
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("participant", sa.String(128), primary_key=True),
    sa.Column("opted_out_at", UtcDateTime(), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Index(None, "tenant_id", "opted_out_at"),
)
"""The suppression list: one row per tenant, channel and pseudonym (never the number)."""

tenant_settings = sa.Table(
    "walker_tenant_settings",
    metadata,
    sa.Column("tenant_id", _key(), primary_key=True),
    sa.Column("fallback_template", Json, nullable=True),
)
"""One row per tenant with settings of its own: the template sent once a window closed."""

tenant_keywords = sa.Table(
    "walker_tenant_keywords",
    metadata,
    sa.Column("tenant_id", _key(), primary_key=True),
    sa.Column("language", sa.String(16), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("keyword", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),
)
"""A tenant's consent keywords per language, ``kind`` ``stop`` or ``start``, in ``position``
order. A language saved with no keywords at all (which turns its built-in ones off) is one
row of kind ``off`` with an empty keyword."""

rollup_days = sa.Table(
    "walker_rollup_days",
    metadata,
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("rolled_at", UtcDateTime(), nullable=False),
)
"""The UTC days whose figures are rolled up, and still valid: a write into a day's events
deletes its row (a trigger, ``sql.triggers``), and the admin reads take that day from the
events again until it is rolled anew (``sql.rollups``)."""


def _day_and_source() -> tuple[sa.Column[Any] | sa.Index, ...]:
    """The columns and index every rollup table is keyed by: day, tenant and channel."""
    return (
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenant_id", _key(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Index(None, "day", "tenant_id", "channel"),
    )


day_figures = sa.Table(
    "walker_day_figures",
    metadata,
    *_day_and_source(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("n", sa.BigInteger(), nullable=False),
    sa.Column("total", sa.Float(), nullable=True),
    sa.Column("low", sa.Float(), nullable=True),
    sa.Column("high", sa.Float(), nullable=True),
)
"""One day's stats of one tenant and channel, one row per figure (``sql.figures``): a count
(``n``), a sum (``total``), or a response-time histogram bucket (``n``, ``low``, ``high``)."""

day_users = sa.Table(
    "walker_day_users",
    metadata,
    *_day_and_source(),
    sa.Column("sketch", sa.LargeBinary(), nullable=False),
)
"""One day's participants of one tenant and channel as a HyperLogLog sketch (``sql.rollups``)."""


@sa.event.listens_for(metadata, "after_create")
def _create_triggers(_: sa.MetaData, connection: sa.Connection, **__: Any) -> None:
    triggers.create(connection)


@sa.event.listens_for(metadata, "before_drop")
def _drop_triggers(_: sa.MetaData, connection: sa.Connection, **__: Any) -> None:
    triggers.drop(connection)
