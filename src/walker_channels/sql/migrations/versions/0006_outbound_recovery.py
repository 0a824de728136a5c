"""Outbound recovery: the ledger keeps what a send needs until it went out.

``walker_outbound`` gains ``attempts``, ``next_attempt_at`` (when a sweep looks an unknown send
up, or tries a failed one again) and ``payload`` (the message and its context, dropped once it
was sent). The ``success`` figure of the events changes meaning: an attempt whose outcome is
unknown is no outcome yet (NULL), and a delivery callback that says ``failed`` or
``undelivered`` is a failure (false); existing rows are brought in line.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain types, not the models' (the models will change; this revision must not).
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

_RECOMPUTE = {
    "postgresql": (
        "UPDATE walker_events SET success = NULL WHERE type = 'outbound_failed' "
        "AND (data ->> 'outcome_unknown')::boolean",
        "UPDATE walker_events SET success = false WHERE type = 'delivery_status' "
        "AND data ->> 'status' IN ('failed', 'undelivered')",
    ),
    "sqlite": (
        "UPDATE walker_events SET success = NULL WHERE type = 'outbound_failed' "
        "AND json_extract(data, '$.outcome_unknown') = 1",
        "UPDATE walker_events SET success = false WHERE type = 'delivery_status' "
        "AND json_extract(data, '$.status') IN ('failed', 'undelivered')",
    ),
}


def upgrade() -> None:
    """Add the recovery columns and their indexes; recompute ``success`` where it changed."""
    with op.batch_alter_table("walker_outbound") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("next_attempt_at", _TIME, nullable=True))
        batch.add_column(sa.Column("payload", _JSON, nullable=True))
    op.create_index(
        op.f("ix_walker_outbound_next_attempt_at"), "walker_outbound", ["next_attempt_at"]
    )
    op.create_index(
        op.f("ix_walker_outbound_state_created_at_key"),
        "walker_outbound",
        ["state", "created_at", "key"],
    )
    for statement in _RECOMPUTE.get(op.get_bind().dialect.name, ()):
        op.execute(sa.text(statement))


def downgrade() -> None:
    """Drop the recovery columns (unknown sends stay unknown; their payloads are lost)."""
    op.drop_index(op.f("ix_walker_outbound_state_created_at_key"), table_name="walker_outbound")
    op.drop_index(op.f("ix_walker_outbound_next_attempt_at"), table_name="walker_outbound")
    with op.batch_alter_table("walker_outbound") as batch:
        batch.drop_column("payload")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
    op.execute(sa.text("UPDATE walker_events SET success = false WHERE type = 'outbound_failed'"))
    op.execute(sa.text("UPDATE walker_events SET success = NULL WHERE type = 'delivery_status'"))
