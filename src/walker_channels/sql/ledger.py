"""The outbound ledger in SQL: reservations by insert-ignore, delivery status by rank."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from walker_channels.delivery import delivery_rank
from walker_channels.exceptions import NotFound
from walker_channels.models import DeliveryStatus, OutboundRecord, OutboundState
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import outbound


def record_row(record: OutboundRecord) -> dict[str, Any]:
    """The row that stores ``record``."""
    row = record.model_dump(mode="python")
    row["channel"] = record.channel.value
    row["state"] = record.state.value
    status = record.delivery_status
    row["delivery_status"] = None if status is None else status.value
    row["delivery_rank"] = None if status is None else delivery_rank(status)
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

    async def retry(self, key: str, *, at: datetime) -> bool:
        """Move a ``failed`` record back to ``pending`` in one conditional UPDATE."""
        stmt = (
            sa.update(outbound)
            .where(outbound.c.key == key, outbound.c.state == OutboundState.FAILED.value)
            .values(state=OutboundState.PENDING.value, updated_at=at, error_code=None)
            .returning(outbound.c.key)
        )
        return await self._db.run(lambda conn: conn.execute(stmt).first() is not None, write=True)

    async def settle(
        self,
        key: str,
        *,
        state: OutboundState,
        at: datetime,
        provider_message_id: str | None = None,
        error_code: str | None = None,
    ) -> None:
        """Record how the send ended; raises :class:`NotFound` for a key never reserved."""
        values: dict[str, Any] = {"state": state.value, "updated_at": at, "error_code": error_code}
        if provider_message_id is not None:
            values["provider_message_id"] = provider_message_id
        stmt = (
            sa.update(outbound)
            .where(outbound.c.key == key)
            .values(values)
            .returning(outbound.c.key)
        )
        if await self._db.run(lambda conn: conn.execute(stmt).first(), write=True) is None:
            raise NotFound("no outbound record with that key")

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
        stmt = (
            sa.update(outbound)
            .where(_target(provider_message_id, key))
            .where(sa.or_(outbound.c.delivery_rank.is_(None), outbound.c.delivery_rank < rank))
            .values(
                delivery_status=status.value,
                delivery_rank=rank,
                provider_message_id=provider_message_id,
                state=sa.case(
                    (outbound.c.state == OutboundState.UNKNOWN.value, OutboundState.SENT.value),
                    else_=outbound.c.state,
                ),
                updated_at=at,
            )
            .returning(*outbound.c)
        )
        row = await self._db.run(lambda conn: conn.execute(stmt).mappings().first(), write=True)
        return None if row is None else record_from_row(row)


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
