"""The outbound ledger in SQL: reservations by insert-ignore, settlements by compare-and-set.

A settlement and its event are one transaction (the ledger and the event log share the
database), so a crash leaves either both or neither.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from walker_channels.sql.events import event_row, record_statement
from walker_channels.sql.scope import scope_filter
from walker_channels.sql.tables import outbound

_OPEN = (OutboundState.UNKNOWN.value, OutboundState.FAILED.value)
"""The states a sweep or an operator may still act on."""


_o = outbound.c
# The hot statements are built once and executed with ``p_*`` parameters, so each reuses its
# cache key and compiled form (one built per call with literals pays its coercions and cache
# key every time). No ``p_`` name is a column's: an UPDATE would SET a column so named.
_KEY: sa.BindParameter[str] = sa.bindparam("p_key")
GET = sa.select(outbound).where(_o.key == _KEY)
EXISTS = sa.select(_o.key).where(_o.key == _KEY)


def retry_statement(*, by_attempts: bool) -> sa.Update:
    """Move a ``failed`` record (with ``p_attempts`` attempts if ``by_attempts``) to pending."""
    conditions = [_o.key == _KEY, _o.state == OutboundState.FAILED.value]
    if by_attempts:
        conditions.append(_o.attempts == sa.bindparam("p_attempts"))
    return (
        sa.update(outbound)
        .where(*conditions)
        .values(
            state=OutboundState.PENDING.value,
            updated_at=sa.bindparam("p_at"),
            error_code=None,
            next_attempt_at=None,
            attempts=_o.attempts + 1,
        )
        .returning(_o.key)
    )


def settle_statement(*, sets_provider_id: bool, keeps_payload: bool) -> sa.Update:
    """The compare-and-set of a settlement, from the states in ``p_expected``."""
    values: dict[str, Any] = {
        "state": sa.bindparam("p_state"),
        "updated_at": sa.bindparam("p_at"),
        "error_code": sa.bindparam("p_error_code"),
        "next_attempt_at": sa.bindparam("p_next_attempt_at"),
    }
    if sets_provider_id:
        values["provider_message_id"] = sa.bindparam("p_provider_message_id")
    if not keeps_payload:
        values["payload"] = sa.null()
    return (
        sa.update(outbound)
        .where(_o.key == _KEY, _o.state.in_(sa.bindparam("p_expected", expanding=True)))
        .values(values)
        .returning(_o.key)
    )


def advance_statement(*, by_key: bool) -> sa.Update:
    """Apply a delivery status of rank ``p_rank`` to the record with key ``p_key`` (or, if
    not ``by_key``, to the first with provider id ``p_provider_message_id``)."""
    rank: sa.BindParameter[int] = sa.bindparam("p_rank")
    unknown = _o.state == OutboundState.UNKNOWN.value
    return (
        sa.update(outbound)
        .where(_target(by_key=by_key))
        .where(sa.or_(_o.delivery_rank.is_(None), _o.delivery_rank < rank))
        .values(
            delivery_status=sa.bindparam("p_status"),
            delivery_rank=rank,
            provider_message_id=sa.bindparam("p_provider_message_id"),
            state=sa.case((unknown, OutboundState.SENT.value), else_=_o.state),
            next_attempt_at=sa.case((unknown, None), else_=_o.next_attempt_at),
            updated_at=sa.bindparam("p_at"),
        )
        .returning(*outbound.c)
    )


def _target(*, by_key: bool) -> sa.ColumnElement[bool]:
    if by_key:
        return _o.key == _KEY
    first = (
        sa.select(_o.key)
        .where(_o.provider_message_id == sa.bindparam("p_provider_message_id"))
        .order_by(_o.created_at, _o.key)
        .limit(1)
        .scalar_subquery()
    )
    return _o.key == first


RETRY = {by_attempts: retry_statement(by_attempts=by_attempts) for by_attempts in (False, True)}
SETTLE = {
    (sets_provider_id, keeps_payload): settle_statement(
        sets_provider_id=sets_provider_id, keeps_payload=keeps_payload
    )
    for sets_provider_id in (False, True)
    for keeps_payload in (False, True)
}
ADVANCE = {by_key: advance_statement(by_key=by_key) for by_key in (False, True)}


def settle_work(
    record: sa.Executable, key: str, settlement: Settlement, event: ConversationEvent | None
) -> Callable[[sa.Connection], bool]:
    """The work of :meth:`SqlOutboundLedger.settle`'s transaction: the compare-and-set, then
    ``event`` by ``record`` (:func:`~walker_channels.sql.events.record_statement`) if it took
    effect. Raises :class:`NotFound` for a key never reserved."""
    provider_message_id = settlement.provider_message_id
    stmt = SETTLE[provider_message_id is not None, settlement.keeps_payload]
    params = {
        "p_key": key,
        "p_expected": [state.value for state in settlement.expected],
        "p_state": settlement.state.value,
        "p_at": settlement.at,
        "p_error_code": settlement.error_code,
        "p_next_attempt_at": settlement.next_attempt_at,
        "p_provider_message_id": provider_message_id,
    }
    row = None if event is None else event_row(event)

    def work(conn: sa.Connection) -> bool:
        if conn.execute(stmt, params).first() is None:
            if conn.execute(EXISTS, params).first() is None:
                raise NotFound("no outbound record with that key")
            return False
        if row is not None:
            conn.execute(record, row)
        return True

    return work


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
        self._record = record_statement(db)

    async def reserve(self, record: OutboundRecord) -> bool:
        """Insert ``record``; ``False`` when its key is taken (then do not send)."""
        row, stmt = record_row(record), self._insert
        return await self._db.run(
            lambda conn: conn.execute(stmt, row).first() is not None, write=True
        )

    async def get(self, key: str) -> OutboundRecord | None:
        """The record with this key, if any."""
        params = {"p_key": key}
        row = await self._db.run(lambda conn: conn.execute(GET, params).mappings().first())
        return None if row is None else record_from_row(row)

    async def retry(self, key: str, *, at: datetime, attempts: int | None = None) -> bool:
        """Move a ``failed`` record back to ``pending`` in one conditional UPDATE."""
        stmt = RETRY[attempts is not None]
        params = {"p_key": key, "p_at": at, "p_attempts": attempts}
        return await self._db.run(
            lambda conn: conn.execute(stmt, params).first() is not None, write=True
        )

    async def settle(
        self, key: str, settlement: Settlement, *, event: ConversationEvent | None = None
    ) -> bool:
        """Settle by one conditional UPDATE and append ``event`` in the same transaction."""
        return await self._db.run(settle_work(self._record, key, settlement, event), write=True)

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
        stmt = ADVANCE[key is not None]
        params = {
            "p_key": key,
            "p_rank": delivery_rank(status),
            "p_status": status.value,
            "p_provider_message_id": provider_message_id,
            "p_at": at,
        }
        row = await self._db.run(
            lambda conn: conn.execute(stmt, params).mappings().first(), write=True
        )
        return None if row is None else record_from_row(row)

    async def _records(self, stmt: sa.Select[Any]) -> Sequence[OutboundRecord]:
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return tuple(record_from_row(row) for row in rows)
