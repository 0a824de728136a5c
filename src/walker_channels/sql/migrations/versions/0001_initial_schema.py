"""Initial schema: events, approvals, outbound ledger, inbound queue, tenant numbers, briefs.

Revision ID: 0001
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain types, not the models' (the models will change; this revision must not).
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "walker_approvals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("participant", sa.String(length=128), nullable=False),
        sa.Column("recipient", _JSON, nullable=False),
        sa.Column("agent_type", sa.String(length=128), nullable=False),
        sa.Column("action_type", sa.String(length=64), nullable=False),
        sa.Column("action_data", _JSON, nullable=False),
        sa.Column("proposed_text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("inbound_message_id", sa.String(length=128), nullable=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walker_approvals")),
    )
    op.create_index(
        op.f("ix_walker_approvals_status_created_at_id"),
        "walker_approvals",
        ["status", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_walker_approvals_status_expires_at"),
        "walker_approvals",
        ["status", "expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_walker_approvals_tenant_id_status_created_at"),
        "walker_approvals",
        ["tenant_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "walker_brief_schedules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("include_analytics", sa.Boolean(), nullable=False),
        sa.Column("include_campaign_updates", sa.Boolean(), nullable=False),
        sa.Column("include_recommendations", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walker_brief_schedules")),
    )
    op.create_index(
        op.f("ix_walker_brief_schedules_tenant_id"),
        "walker_brief_schedules",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "walker_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", _TIME, nullable=False),
        sa.Column("participant", sa.String(length=128), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("response_time_ms", sa.Float(), nullable=True),
        sa.Column("hitl", sa.Boolean(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("is_error", sa.Boolean(), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("data", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walker_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_walker_events_idempotency_key")),
    )
    op.create_index(
        op.f("ix_walker_events_tenant_id_channel_occurred_at"),
        "walker_events",
        ["tenant_id", "channel", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_walker_events_tenant_id_channel_participant_occurred_at"),
        "walker_events",
        ["tenant_id", "channel", "participant", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_walker_events_tenant_id_direction_occurred_at"),
        "walker_events",
        ["tenant_id", "direction", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_walker_events_tenant_id_occurred_at_id"),
        "walker_events",
        ["tenant_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_walker_events_aggregates",
        "walker_events",
        [
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
        ],
        unique=False,
    )
    op.create_table(
        "walker_inbound_queue",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("message", _JSON, nullable=False),
        sa.Column("enqueued_at", _TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("leased_until", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walker_inbound_queue")),
    )
    op.create_index(
        op.f("ix_walker_inbound_queue_enqueued_at_id"),
        "walker_inbound_queue",
        ["enqueued_at", "id"],
        unique=False,
    )
    op.create_table(
        "walker_outbound",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("participant", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("delivery_status", sa.String(length=16), nullable=True),
        sa.Column("delivery_rank", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_walker_outbound")),
    )
    op.create_index(
        op.f("ix_walker_outbound_provider_message_id"),
        "walker_outbound",
        ["provider_message_id"],
        unique=False,
    )
    op.create_table(
        "walker_tenant_numbers",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_walker_tenant_numbers")),
    )
    op.create_index(
        op.f("ix_walker_tenant_numbers_tenant_id"),
        "walker_tenant_numbers",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "walker_brief_runs",
        sa.Column("schedule_id", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["walker_brief_schedules.id"],
            name=op.f("fk_walker_brief_runs_schedule_id_walker_brief_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "local_date", name=op.f("pk_walker_brief_runs")),
    )


def downgrade() -> None:
    """Drop every table."""
    op.drop_table("walker_brief_runs")
    op.drop_index(op.f("ix_walker_tenant_numbers_tenant_id"), table_name="walker_tenant_numbers")
    op.drop_table("walker_tenant_numbers")
    op.drop_index(op.f("ix_walker_outbound_provider_message_id"), table_name="walker_outbound")
    op.drop_table("walker_outbound")
    op.drop_index(op.f("ix_walker_inbound_queue_enqueued_at_id"), table_name="walker_inbound_queue")
    op.drop_table("walker_inbound_queue")
    op.drop_index("ix_walker_events_aggregates", table_name="walker_events")
    op.drop_index(op.f("ix_walker_events_tenant_id_occurred_at_id"), table_name="walker_events")
    op.drop_index(
        op.f("ix_walker_events_tenant_id_direction_occurred_at"), table_name="walker_events"
    )
    op.drop_index(
        op.f("ix_walker_events_tenant_id_channel_participant_occurred_at"),
        table_name="walker_events",
    )
    op.drop_index(
        op.f("ix_walker_events_tenant_id_channel_occurred_at"), table_name="walker_events"
    )
    op.drop_table("walker_events")
    op.drop_index(op.f("ix_walker_brief_schedules_tenant_id"), table_name="walker_brief_schedules")
    op.drop_table("walker_brief_schedules")
    op.drop_index(
        op.f("ix_walker_approvals_tenant_id_status_created_at"), table_name="walker_approvals"
    )
    op.drop_index(op.f("ix_walker_approvals_status_expires_at"), table_name="walker_approvals")
    op.drop_index(op.f("ix_walker_approvals_status_created_at_id"), table_name="walker_approvals")
    op.drop_table("walker_approvals")
