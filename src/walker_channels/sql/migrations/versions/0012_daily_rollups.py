"""Daily rollups of the admin stats: ``walker_rollup_days``, ``walker_day_figures``,
``walker_day_users``, and the triggers on ``walker_events`` that forget a rolled day when its
events change (``walker_channels.sql.rollups``, ``walker_channels.sql.triggers``).

Nothing is rolled here: the sweep loop (or ``walker-channels db rollup``) rolls the closed
days afterwards; until then the stats read the events, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from walker_channels.sql import triggers

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _source() -> list[sa.Column[object]]:
    """The day, tenant and channel columns (plain types, not the models')."""
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
    ]


def upgrade() -> None:
    """Create the three tables and the triggers."""
    op.create_table(
        "walker_rollup_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_walker_rollup_days")),
    )
    op.create_table(
        "walker_day_figures",
        *_source(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
    )
    op.create_table(
        "walker_day_users",
        *_source(),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
    )
    for table in ("walker_day_figures", "walker_day_users"):
        name = op.f(f"ix_{table}_day_tenant_id_channel")
        op.create_index(name, table, ["day", "tenant_id", "channel"])
    triggers.create(op.get_bind())


def downgrade() -> None:
    """Drop the triggers and the three tables."""
    triggers.drop(op.get_bind())
    for table in ("walker_day_users", "walker_day_figures"):
        op.drop_index(op.f(f"ix_{table}_day_tenant_id_channel"), table_name=table)
        op.drop_table(table)
    op.drop_table("walker_rollup_days")
