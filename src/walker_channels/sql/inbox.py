"""The inbound queue in SQL: leased claims, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.

A claim is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n)`` that sets the lease. On
PostgreSQL the inner SELECT skips rows other claimers have locked; on SQLite the write
transaction holds the database's write lock, so claims run one after another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from walker_channels.models import InboundMessage, QueuedInbound
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import inbound_queue

_q = inbound_queue.c


def _queued_from_row(row: Mapping[Any, Any]) -> QueuedInbound:
    return QueuedInbound(
        id=row["id"],
        message=InboundMessage.model_validate(row["message"]),
        tenant_id=row["tenant_id"],
        session_id=row["session_id"],
        enqueued_at=row["enqueued_at"],
        attempts=row["attempts"],
    )


def _free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(_q.leased_until.is_(None), _q.leased_until <= now)


class SqlInboundQueue:
    """An :class:`~walker_channels.ports.InboundQueue` on ``walker_inbound_queue``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = (
            db.dialect.insert(inbound_queue)
            .on_conflict_do_nothing(index_elements=[_q.id])
            .returning(_q.id)
        )

    async def enqueue(self, item: QueuedInbound) -> bool:
        """Add ``item``; ``False`` if an entry with its id exists."""
        row = {
            "id": item.id,
            "tenant_id": item.tenant_id,
            "session_id": item.session_id,
            "message": item.message.model_dump(mode="json"),
            "enqueued_at": item.enqueued_at,
            "attempts": item.attempts,
            "leased_until": None,
        }
        stmt = self._insert
        return await self._db.run(
            lambda conn: conn.execute(stmt, row).first() is not None, write=True
        )

    async def claim(
        self, *, now: datetime, lease: timedelta, limit: int = 1, item_id: str | None = None
    ) -> Sequence[QueuedInbound]:
        """Lease up to ``limit`` free or expired entries, oldest first."""
        candidates = sa.select(_q.id).where(_free(now)).order_by(_q.enqueued_at, _q.id).limit(limit)
        if item_id is not None:
            candidates = candidates.where(_q.id == item_id)
        stmt = (
            sa.update(inbound_queue)
            .where(_q.id.in_(self._db.dialect.skip_locked(candidates)), _free(now))
            .values(attempts=_q.attempts + 1, leased_until=now + lease)
            .returning(*inbound_queue.c)
        )
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all(), write=True)
        claimed = [_queued_from_row(row) for row in rows]
        return sorted(claimed, key=lambda item: (item.enqueued_at, item.id))

    async def complete(self, item_id: str) -> None:
        """Remove a processed entry (nothing happens for an unknown id)."""
        stmt = sa.delete(inbound_queue).where(_q.id == item_id)
        await self._db.run(lambda conn: conn.execute(stmt), write=True)
