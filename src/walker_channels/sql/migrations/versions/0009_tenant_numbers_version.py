"""A version counter for the tenant numbers: ``walker_tenant_numbers_version``, one row.

Every change to ``walker_tenant_numbers`` adds one to it in the same transaction, so a process
that caches which tenant owns a number sees a change at once: the accept transaction reads
the counter and resolves again when it moved (no expiry to wait for).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "walker_tenant_numbers_version"


def upgrade() -> None:
    """Create the counter (its one row is written by the first change of a number)."""
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walker_tenant_numbers_version")),
    )


def downgrade() -> None:
    """Drop the counter."""
    op.drop_table(_TABLE)
