"""The inbound queue in SQL: leased claims, one conversation at a time.

A claim is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n)`` that sets the lease. The inner
SELECT takes only the oldest entry of each conversation (no older entry of the same
conversation exists), so a conversation's second message waits until its first is completed.
On PostgreSQL the SELECT skips rows other claimers have locked and the outer ``UPDATE``
re-checks the lease on the locked row; on SQLite the write transaction holds the database's
write lock, so claims run one after another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from walker_channels.models import Claim, HeldReply, InboundMessage, QueuedInbound, QueueStats
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import inbound_queue

_q = inbound_queue.c
_older = inbound_queue.alias("older")
_o = _older.c


def queued_from_row(row: Mapping[Any, Any]) -> QueuedInbound:
    reply = row["reply"]
    return QueuedInbound(
        id=row["id"],
        message=InboundMessage.model_validate(row["message"]),
        tenant_id=row["tenant_id"],
        session_id=row["session_id"],
        conversation=row["conversation"],
        enqueued_at=row["enqueued_at"],
        attempts=row["attempts"],
        reply=None if reply is None else HeldReply.model_validate(reply),
    )


def free(now: datetime | sa.BindParameter[datetime]) -> sa.ColumnElement[bool]:
    """The entry is unclaimed, or its lease ran out by ``now``."""
    return sa.or_(_q.leased_until.is_(None), _q.leased_until <= now)


def _behind(first: Any, then: Any) -> sa.ColumnElement[bool]:
    """``then`` was queued after ``first`` (by time, then id).

    A row-value comparison, so both databases seek the ``(conversation, enqueued_at, id)``
    index instead of reading every entry of the conversation.
    """
    return sa.tuple_(first.enqueued_at, first.id) < sa.tuple_(then.enqueued_at, then.id)


HEAD = ~sa.exists().where(_o.conversation == _q.conversation, _behind(_o, _q))
"""The entry is the oldest of its conversation (so no entry joined to another's turn is one)."""


# The hot statements are built once and executed with ``p_*`` parameters, so each reuses its
# cache key and compiled form (one built per call with literals pays its coercions and cache
# key every time). No ``p_`` name is a column's: an UPDATE would SET a column so named.
_ID: sa.BindParameter[str] = sa.bindparam("p_item_id")
RENEW = (
    sa.update(inbound_queue)
    .where(_q.id == _ID)
    .values(leased_until=sa.bindparam("p_leased_until"))
    .returning(_q.id)
)
HOLD_REPLY = sa.update(inbound_queue).where(_q.id == _ID).values(reply=sa.bindparam("p_reply"))
COMPLETE = sa.delete(inbound_queue).where(sa.or_(_q.id == _ID, _q.joined_to == _ID))
_lead = inbound_queue.alias("lead")
JOIN = (
    sa.update(inbound_queue)
    .where(
        _q.joined_to.is_(None),
        sa.exists().where(
            _lead.c.id == _ID,
            _lead.c.reply.is_(None),
            _lead.c.conversation == _q.conversation,
            _behind(_lead.c, _q),
        ),
    )
    .values(joined_to=_ID)
)
JOINED = sa.select(inbound_queue).where(_q.joined_to == _ID).order_by(_q.enqueued_at, _q.id)


def _claim_statement(db: Database, *, by_id: bool, by_conversation: bool) -> sa.Update:
    """The claim ``UPDATE`` (parameters ``p_now``, ``p_leased_until``, ``p_limit``, and
    ``p_item_id`` / ``p_conversation`` when it filters on them)."""
    now: sa.BindParameter[datetime] = sa.bindparam("p_now")
    candidates = (
        sa.select(_q.id)
        # Walked in (enqueued_at, id) order until ``limit`` heads are found: no other
        # condition here, or a planner may pick another index and test every entry.
        .where(free(now), HEAD)
        .order_by(_q.enqueued_at, _q.id)
        .limit(sa.bindparam("p_limit", type_=sa.Integer))
    )
    if by_id:
        candidates = candidates.where(_q.id == _ID)
    if by_conversation:
        candidates = candidates.where(_q.conversation == sa.bindparam("p_conversation"))
    return (
        sa.update(inbound_queue)
        .where(_q.id.in_(db.dialect.skip_locked(candidates)), free(now))
        .values(attempts=_q.attempts + 1, leased_until=sa.bindparam("p_leased_until"))
        .returning(*inbound_queue.c)
    )


class Claims:
    """The claim ``UPDATE`` for each combination of filters, built once, and how a claim runs
    on a connection (the queue's own transaction, or a larger one)."""

    def __init__(self, db: Database) -> None:
        self._statements = {
            (by_id, by_conversation): _claim_statement(
                db, by_id=by_id, by_conversation=by_conversation
            )
            for by_id in (False, True)
            for by_conversation in (False, True)
        }

    def run(self, conn: sa.Connection, claim: Claim) -> list[QueuedInbound]:
        """Lease the entries ``claim`` selects; oldest first."""
        stmt = self._statements[claim.item_id is not None, claim.conversation is not None]
        params = {
            "p_now": claim.now,
            "p_leased_until": claim.now + claim.lease,
            "p_limit": claim.limit,
            "p_item_id": claim.item_id,
            "p_conversation": claim.conversation,
        }
        rows = conn.execute(stmt, params).mappings().all()
        return sorted(map(queued_from_row, rows), key=lambda item: (item.enqueued_at, item.id))


def enqueue_statement(db: Database) -> sa.Executable:
    """``INSERT`` of a queue row, skipped (no row returned) when its id is queued already."""
    insert = db.dialect.insert(inbound_queue).on_conflict_do_nothing(index_elements=[_q.id])
    return insert.returning(_q.id)


def queue_row(item: QueuedInbound) -> dict[str, Any]:
    """The row that queues ``item``."""
    return {
        "id": item.id,
        "tenant_id": item.tenant_id,
        "session_id": item.session_id,
        "conversation": item.conversation,
        "message": item.message.model_dump(mode="json"),
        "enqueued_at": item.enqueued_at,
        "attempts": item.attempts,
        "leased_until": None,
        # SQL NULL, not JSON null: gather() tests for it.
        "reply": sa.null() if item.reply is None else item.reply.model_dump(mode="json"),
        "joined_to": None,
    }


class SqlInboundQueue:
    """An :class:`~walker_channels.ports.InboundQueue` on ``walker_inbound_queue``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = enqueue_statement(db)
        self._claims = Claims(db)

    async def enqueue(self, item: QueuedInbound) -> bool:
        """Add ``item``; ``False`` if an entry with its id exists."""
        row = queue_row(item)
        stmt = self._insert
        return await self._db.run(
            lambda conn: conn.execute(stmt, row).first() is not None, write=True
        )

    async def claim(
        self,
        *,
        now: datetime,
        lease: timedelta,
        limit: int = 1,
        item_id: str | None = None,
        conversation: str | None = None,
    ) -> Sequence[QueuedInbound]:
        """Lease up to ``limit`` free or expired conversation heads, oldest first."""
        claim = Claim(now, lease, limit, item_id, conversation)
        return await self._db.run(lambda conn: self._claims.run(conn, claim), write=True)

    async def renew(self, item_id: str, *, now: datetime, lease: timedelta) -> bool:
        """Move the entry's lease to ``now + lease``."""
        params = {"p_item_id": item_id, "p_leased_until": now + lease}
        return await self._db.run(
            lambda conn: conn.execute(RENEW, params).first() is not None, write=True
        )

    async def hold_reply(self, item_id: str, reply: HeldReply) -> None:
        """Store ``reply`` on the entry."""
        params = {"p_item_id": item_id, "p_reply": reply.model_dump(mode="json")}
        await self._db.run(lambda conn: conn.execute(HOLD_REPLY, params), write=True)

    async def gather(self, item_id: str) -> Sequence[QueuedInbound]:
        """Join the entries behind ``item_id`` (while it holds no reply); return the joined."""
        params = {"p_item_id": item_id}

        def run(conn: sa.Connection) -> Sequence[Mapping[Any, Any]]:
            conn.execute(JOIN, params)
            return conn.execute(JOINED, params).mappings().all()

        rows = await self._db.run(run, write=True)
        return [queued_from_row(row) for row in rows]

    async def complete(self, item_id: str) -> None:
        """Remove a processed entry and the entries joined to it (nothing for an unknown id)."""
        params = {"p_item_id": item_id}
        await self._db.run(lambda conn: conn.execute(COMPLETE, params), write=True)

    async def stats(self, *, now: datetime) -> QueueStats:
        """How many entries wait and are in progress, and when the oldest waiting one came."""
        waiting = sa.and_(free(now), _q.joined_to.is_(None))
        held = sa.and_(sa.not_(free(now)), _q.joined_to.is_(None))
        stmt = sa.select(
            sa.func.count().filter(waiting),
            sa.func.count().filter(held),
            sa.func.min(_q.enqueued_at).filter(waiting),
        )
        waiting_count, held_count, oldest = await self._db.run(
            lambda conn: conn.execute(stmt).one()
        )
        return QueueStats(waiting=waiting_count, in_progress=held_count, oldest_waiting_at=oldest)
