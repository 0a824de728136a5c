"""Tenant numbers by channel: ``+E164`` on SMS and ``whatsapp:+E164`` are owned separately.

``walker_tenant_numbers`` gets a ``channel`` column in its primary key. A number stored before
this revision answered on every channel, so it is kept on both: its row becomes the SMS one
and a WhatsApp copy is added (an email address becomes the email one). Downgrading keeps one
row per address (the SMS or email one, where there are several).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "walker_tenant_numbers"
_PK = "pk_walker_tenant_numbers"
# Plain types, not the models' (the models will change; this revision must not).
_numbers = sa.table(
    _TABLE,
    sa.column("address", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("tenant_id", sa.String()),
    sa.column("user_id", sa.String()),
)
_n = _numbers.c


def upgrade() -> None:
    """Add ``channel`` to the key; each stored number is kept on SMS and on WhatsApp."""
    with op.batch_alter_table(_TABLE) as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
    is_email = _n.address.like("%@%")
    op.execute(_numbers.update().where(is_email).values(channel="email"))
    op.execute(_numbers.update().where(_n.channel.is_(None)).values(channel="sms"))
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column("channel", existing_type=sa.String(length=16), nullable=False)
        batch.drop_constraint(_PK, type_="primary")
        batch.create_primary_key(_PK, ["address", "channel"])
    copies = sa.select(_n.address, sa.literal("whatsapp"), _n.tenant_id, _n.user_id).where(
        _n.channel == "sms"
    )
    op.execute(
        _numbers.insert().from_select(["address", "channel", "tenant_id", "user_id"], copies)
    )


def downgrade() -> None:
    """One row per address again: WhatsApp rows go where the address has another row."""
    others = sa.select(_n.address).where(_n.channel != "whatsapp").scalar_subquery()
    op.execute(_numbers.delete().where(_n.channel == "whatsapp", _n.address.in_(others)))
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(_PK, type_="primary")
        batch.create_primary_key(_PK, ["address"])
        batch.drop_column("channel")
