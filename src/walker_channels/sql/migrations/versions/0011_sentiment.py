"""Sentiment: ``walker_events`` gains ``sentiment``, the score of an inbound message's text.

The admin reads average it (``metrics``). Messages stored before this revision have no score
(NULL) and count in no average: their text is not scored after the fact.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``sentiment`` column (no rewrite of the stored events)."""
    with op.batch_alter_table("walker_events") as batch:
        batch.add_column(sa.Column("sentiment", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop ``sentiment`` (the scores stay in each event's ``data``)."""
    with op.batch_alter_table("walker_events") as batch:
        batch.drop_column("sentiment")
