"""Agent outcomes by ``hitl``: only the agent's replies among sends, and ``hitl`` in the index.

``hitl`` is now set exactly for agent outcomes (``metrics.event_hitl``): escalations
(``True``) and sends whose ``data.purpose`` is ``"reply"`` or missing (``False``). Holding,
approved, fallback, proactive and notice sends get ``NULL``. The aggregates filter on it, so
it joins the covering index they scan. Rewriting ``hitl`` touches every stored send: on a
large table, run it when a long UPDATE is acceptable.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_walker_events_aggregates"
_COLUMNS_0001 = [
    "occurred_at",
    "id",
    "type",
    "tenant_id",
    "channel",
    "agent_id",
    "participant",
    "confidence",
    "response_time_ms",
    "is_error",
]
# Plain types, not the models' (the models will change; this revision must not).
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_events = sa.table(
    "walker_events",
    sa.column("type", sa.String()),
    sa.column("hitl", sa.Boolean()),
    sa.column("data", _JSON),
)
_SENDS = _events.c.type.in_(["outbound", "outbound_failed"])


def _recreate_index(columns: list[str]) -> None:
    op.drop_index(_INDEX, table_name="walker_events")
    op.create_index(_INDEX, "walker_events", columns, unique=False)


def upgrade() -> None:
    """Mark the agent's replies ``False`` and other sends ``NULL``; index ``hitl``."""
    # The column holds the dumped event, so the event's own ``data`` is nested in it. A JSON
    # null purpose reads as SQL NULL, so it counts as missing, as in event_hitl.
    purpose = sa.func.coalesce(_events.c.data[("data", "purpose")].as_string(), "reply")
    reply = sa.case((purpose == "reply", sa.false()), else_=sa.null())
    op.execute(_events.update().where(_SENDS).values(hitl=reply))
    _recreate_index([*_COLUMNS_0001, "hitl"])


def downgrade() -> None:
    """Restore ``hitl`` of sends to the event's own flag (kept in ``data``) and the old index."""
    flag = sa.func.coalesce(_events.c.data["hitl"].as_boolean(), sa.false())
    op.execute(_events.update().where(_SENDS).values(hitl=flag))
    _recreate_index(_COLUMNS_0001)
