"""Conversations as a record: ``walker_conversations``, one row per tenant, channel and person.

It holds who answers the conversation (``mode``: agent or human, taken by whom and since
when), its session and the raw address a human's reply needs. Conversations that existed
before this revision get their row with their next message.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "walker_conversations"
# Plain types, not the models' (the models will change; this revision must not).
_TIME = sa.DateTime(timezone=True)
_INDEXES = {
    "ix_walker_conversations_tenant_id_last_activity_at": ["tenant_id", "last_activity_at"],
    "ix_walker_conversations_mode_mode_since": ["mode", "mode_since"],
    "ix_walker_conversations_tenant_id_participant": ["tenant_id", "participant"],
}


def upgrade() -> None:
    """Create ``walker_conversations`` and its indexes."""
    op.create_table(
        _TABLE,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("participant", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("reply_from", sa.String(length=320), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("taken_by", sa.String(length=128), nullable=True),
        sa.Column("mode_since", _TIME, nullable=False),
        sa.Column("last_inbound_at", _TIME, nullable=True),
        sa.Column("last_activity_at", _TIME, nullable=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walker_conversations")),
    )
    for name, columns in _INDEXES.items():
        op.create_index(op.f(name), _TABLE, columns, unique=False)


def downgrade() -> None:
    """Drop ``walker_conversations`` (every conversation is answered by the agent again)."""
    for name in _INDEXES:
        op.drop_index(op.f(name), table_name=_TABLE)
    op.drop_table(_TABLE)
