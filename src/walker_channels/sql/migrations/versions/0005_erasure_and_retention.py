"""Erasure and retention: a decided draft may forget its recipient, and erasures are recorded.

``walker_approvals.recipient`` becomes nullable: the raw address is cleared once no send can
need it (``ApprovalStore.clear_recipient``, and the retention purge). ``walker_erasures``
records each erasure of one person's data, by pseudonym, never by number.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain types, not the models' (the models will change; this revision must not).
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Let ``recipient`` be NULL and create ``walker_erasures``."""
    with op.batch_alter_table("walker_approvals") as batch:
        batch.alter_column("recipient", existing_type=_JSON, nullable=True)
    op.create_table(
        "walker_erasures",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("participant", sa.String(length=128), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("erased_at", _TIME, nullable=False),
        sa.Column("removed", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walker_erasures")),
    )
    op.create_index(
        op.f("ix_walker_erasures_tenant_id_erased_at"),
        "walker_erasures",
        ["tenant_id", "erased_at"],
        unique=False,
    )


def downgrade() -> None:
    """Drop ``walker_erasures``; cleared recipients become an empty JSON object (unsendable)."""
    op.drop_index(op.f("ix_walker_erasures_tenant_id_erased_at"), table_name="walker_erasures")
    op.drop_table("walker_erasures")
    op.execute(sa.text("UPDATE walker_approvals SET recipient = '{}' WHERE recipient IS NULL"))
    with op.batch_alter_table("walker_approvals") as batch:
        batch.alter_column("recipient", existing_type=_JSON, nullable=False)
