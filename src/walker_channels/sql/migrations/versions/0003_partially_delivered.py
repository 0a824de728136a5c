"""Delivery status ``partially_delivered``: a wider column, and the ranks after ``sent`` moved up.

``partially_delivered`` (19 characters) ranks between ``sent`` (3) and the final outcomes,
which move from 4 to 5 (and ``read`` from 5 to 6), so stored ranks are shifted to match
``walker_channels.delivery.delivery_rank``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "walker_outbound"


def upgrade() -> None:
    """Widen ``delivery_status`` and shift the ranks at or above the new one."""
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column(
            "delivery_status", type_=sa.String(32), existing_type=sa.String(16), nullable=True
        )
    op.execute(
        sa.text(f"UPDATE {_TABLE} SET delivery_rank = delivery_rank + 1 WHERE delivery_rank >= 4")  # noqa: S608 - a constant
    )


def downgrade() -> None:
    """Fold ``partially_delivered`` back into ``sent`` and restore the old ranks and width."""
    op.execute(
        sa.text(
            f"UPDATE {_TABLE} SET delivery_status = 'sent', delivery_rank = 3 "  # noqa: S608
            "WHERE delivery_status = 'partially_delivered'"
        )
    )
    op.execute(
        sa.text(f"UPDATE {_TABLE} SET delivery_rank = delivery_rank - 1 WHERE delivery_rank >= 5")  # noqa: S608 - a constant
    )
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column(
            "delivery_status", type_=sa.String(16), existing_type=sa.String(32), nullable=True
        )
