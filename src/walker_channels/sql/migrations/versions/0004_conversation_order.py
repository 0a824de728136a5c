"""The inbound queue keeps conversations in order: a conversation key, the held reply, bursts.

``conversation`` groups the entries that must be processed one at a time (tenant, channel and
participant pseudonym). Entries queued before this revision have no known key: each becomes a
conversation of its own (its id), so none of them waits for another. ``reply`` holds a reply
while its parts are sent; ``joined_to`` marks an entry answered in another entry's turn.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "walker_inbound_queue"
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Add the columns; existing entries each become their own conversation."""
    with op.batch_alter_table(_TABLE) as batch:
        batch.add_column(sa.Column("conversation", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("reply", _JSON, nullable=True))
        batch.add_column(sa.Column("joined_to", sa.String(length=128), nullable=True))
    op.execute(sa.text(f"UPDATE {_TABLE} SET conversation = id"))  # noqa: S608 - a constant
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column("conversation", existing_type=sa.String(length=255), nullable=False)
        batch.create_index(
            op.f("ix_walker_inbound_queue_conversation_enqueued_at_id"),
            ["conversation", "enqueued_at", "id"],
            unique=False,
        )
        batch.create_index(op.f("ix_walker_inbound_queue_joined_to"), ["joined_to"], unique=False)


def downgrade() -> None:
    """Drop the columns; entries joined to another entry's turn become entries of their own."""
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_index(op.f("ix_walker_inbound_queue_joined_to"))
        batch.drop_index(op.f("ix_walker_inbound_queue_conversation_enqueued_at_id"))
        batch.drop_column("joined_to")
        batch.drop_column("reply")
        batch.drop_column("conversation")
