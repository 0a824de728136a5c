"""Consent: the suppression list (``walker_opt_outs``) and each tenant's own settings
(``walker_tenant_settings``: the window fallback template; ``walker_tenant_keywords``: its
STOP- and START-style keywords per language).

Every tenant starts with no opt-outs and the built-in keywords (Twilio's English set).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain types, not the models' (the models will change; this revision must not).
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_OPT_OUTS_INDEX = "ix_walker_opt_outs_tenant_id_opted_out_at"


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "walker_opt_outs",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("participant", sa.String(length=128), nullable=False),
        sa.Column("opted_out_at", _TIME, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "channel", "participant", name=op.f("pk_walker_opt_outs")
        ),
    )
    op.create_index(
        op.f(_OPT_OUTS_INDEX), "walker_opt_outs", ["tenant_id", "opted_out_at"], unique=False
    )
    op.create_table(
        "walker_tenant_settings",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("fallback_template", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_walker_tenant_settings")),
    )
    op.create_table(
        "walker_tenant_keywords",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("keyword", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "language", "kind", "keyword", name=op.f("pk_walker_tenant_keywords")
        ),
    )


def downgrade() -> None:
    """Drop them: every opt-out is forgotten and every tenant has the built-in keywords again."""
    op.drop_table("walker_tenant_keywords")
    op.drop_table("walker_tenant_settings")
    op.drop_index(op.f(_OPT_OUTS_INDEX), table_name="walker_opt_outs")
    op.drop_table("walker_opt_outs")
