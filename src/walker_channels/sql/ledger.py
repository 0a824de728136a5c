"""The outbound ledger in SQL: reservations by insert-ignore, settlements by compare-and-set.

A settlement and its event are one transaction (the ledger and the event log share the
database), so a crash leaves either both or neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from walker_channels.delivery import delivery_rank
from walker_channels.exceptions import NotFound
from walker_channels.models import (
    ConversationEvent,
    DeliveryStatus,
    OutboundRecord,
    OutboundState,
    Scope,
    Settlement,
)
from walker_channels.sql.engine import Database
from walker_channels.sql.events import event_row
from walker_channels.sql.scope import scope_filter
from walker_channels.sql.tables import events, outbound

_OPEN = (OutboundState.UNKNOWN.value, OutboundState.FAILED.value)
"""The states a sweep or an operator may still act on."""


def record_row(record: OutboundRecord) -> dict[str, Any]:
    """The row that stores ``record``."""
    row = record.model_dump(mode="python", exclude={"payload"})
    row["channel"] = record.channel.value
    row["state"] = record.state.value
    status = record.delivery_status
    row["delivery_status"] = None if status is None else status.value
    row["delivery_rank"] = None if status is None else delivery_rank(status)
    payload = record.payload
    row["payload"] = None if payload is None else payload.model_dump(mode="json")
    return row


def record_from_row(row: Mapping[Any, Any]) -> OutboundRecord:
    """The record a row of ``walker_outbound`` stores."""
    return OutboundRecord.model_validate({k: v for k, v in row.items() if k != "delivery_rank"})


class SqlOutboundLedger:
    """An :class:`~walker_channels.ports.OutboundLedger` on ``walker_outbound``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = (
            db.dialect.insert(outbound)
            .on_conflict_do_nothing(index_elements=[outbound.c.key])
            .returning(outbound.c.key)
        )
        self._append = db.dialect.insert(events).on_conflict_do_nothing()

    async def reserve(self, record: OutboundRecord) -> bool:
        """Insert ``record``; ``False`` when its key is taken (then do not send)."""
        row, stmt = record_row(record), self._insert
        return await self._db.run(
            lambda conn: conn.execute(stmt, row).first() is not None, write=True
        )

    async def get(self, key: str) -> OutboundRecord | None:
        """The record with this key, if any."""
        stmt = sa.select(outbound).where(outbound.c.key == key)
        row = await self._db.run(lambda conn: conn.execute(stmt).mappings().first())
        return None if row is None else record_from_row(row)

    async def retry(self, key: str, *, at: datetime, attempts: int | None = None) -> bool:
        """Move a ``failed`` record back to ``pending`` in one conditional UPDATE."""
        conditions = [outbound.c.key == key, outbound.c.state == OutboundState.FAILED.value]
        if attempts is not None:
            conditions.append(outbound.c.attempts == attempts)
        stmt = (
            sa.update(outbound)
            .where(*conditions)
            .values(
                state=OutboundState.PENDING.value,
                updated_at=at,
                error_code=None,
                next_attempt_at=None,
                attempts=outbound.c.attempts + 1,
            )
            .returning(outbound.c.key)
        )
        return await self._db.run(lambda conn: conn.execute(stmt).first() is not None, write=True)

    async def settle(
        self, key: str, settlement: Settlement, *, event: ConversationEvent | None = None
    ) -> bool:
        """Settle by one conditional UPDATE and append ``event`` in the same transaction."""
        values: dict[str, Any] = {
            "state": settlement.state.value,
            "updated_at": settlement.at,
            "error_code": settlement.error_code,
            "next_attempt_at": settlement.next_attempt_at,
        }
        if settlement.provider_message_id is not None:
            values["provider_message_id"] = settlement.provider_message_id
        if not settlement.keeps_payload:
            values["payload"] = sa.null()
        expected = [state.value for state in settlement.expected]
        stmt = (
            sa.update(outbound)
            .where(outbound.c.key == key, outbound.c.state.in_(expected))
            .values(values)
            .returning(outbound.c.key)
        )
        exists = sa.select(outbound.c.key).where(outbound.c.key == key)
        append, row = self._append, None if event is None else event_row(event)

        def work(conn: sa.Connection) -> bool:
            if conn.execute(stmt).first() is None:
                if conn.execute(exists).first() is None:
                    raise NotFound("no outbound record with that key")
                return False
            if row is not None:
                conn.execute(append, row)
            return True

        return await self._db.run(work, write=True)

    async def due(
        self, now: datetime, *, stale_before: datetime | None = None, limit: int = 100
    ) -> Sequence[OutboundRecord]:
        """Open records whose next attempt is due, and stale pending ones, soonest first."""
        due = sa.and_(outbound.c.next_attempt_at <= now, outbound.c.state.in_(_OPEN))
        when: sa.ColumnElement[datetime] = outbound.c.next_attempt_at
        if stale_before is not None:
            stale = sa.and_(
                outbound.c.state == OutboundState.PENDING.value,
                outbound.c.updated_at < stale_before,
            )
            due = sa.or_(due, stale)
            when = sa.func.coalesce(outbound.c.next_attempt_at, outbound.c.updated_at)
        stmt = sa.select(outbound).where(due).order_by(when, outbound.c.key).limit(limit)
        return await self._records(stmt)

    async def unsettled(
        self, scope: Scope, *, key_prefix: str | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[OutboundRecord]:
        """Unknown and failed records in ``scope``, oldest first."""
        conditions = [outbound.c.state.in_(_OPEN), scope_filter(scope, outbound.c.tenant_id)]
        if key_prefix is not None:
            conditions.append(outbound.c.key.startswith(key_prefix, autoescape=True))
        stmt = (
            sa.select(outbound)
            .where(*conditions)
            .order_by(outbound.c.created_at, outbound.c.key)
            .limit(limit)
            .offset(offset)
        )
        return await self._records(stmt)

    async def advance_delivery(
        self,
        *,
        provider_message_id: str,
        status: DeliveryStatus,
        at: datetime,
        key: str | None = None,
    ) -> OutboundRecord | None:
        """Apply ``status`` in one conditional UPDATE, only if its rank is higher."""
        rank = delivery_rank(status)
        unknown = outbound.c.state == OutboundState.UNKNOWN.value
        stmt = (
            sa.update(outbound)
            .where(_target(provider_message_id, key))
            .where(sa.or_(outbound.c.delivery_rank.is_(None), outbound.c.delivery_rank < rank))
            .values(
                delivery_status=status.value,
                delivery_rank=rank,
                provider_message_id=provider_message_id,
                state=sa.case((unknown, OutboundState.SENT.value), else_=outbound.c.state),
                next_attempt_at=sa.case((unknown, None), else_=outbound.c.next_attempt_at),
                updated_at=at,
            )
            .returning(*outbound.c)
        )
        row = await self._db.run(lambda conn: conn.execute(stmt).mappings().first(), write=True)
        return None if row is None else record_from_row(row)

    async def _records(self, stmt: sa.Select[Any]) -> Sequence[OutboundRecord]:
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return tuple(record_from_row(row) for row in rows)


def _target(provider_message_id: str, key: str | None) -> sa.ColumnElement[bool]:
    if key is not None:
        return outbound.c.key == key
    first = (
        sa.select(outbound.c.key)
        .where(outbound.c.provider_message_id == provider_message_id)
        .order_by(outbound.c.created_at, outbound.c.key)
        .limit(1)
        .scalar_subquery()
    )
    return outbound.c.key == first
