"""Approvals in SQL, decided by a conditional UPDATE so that exactly one reviewer wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from walker_channels.exceptions import AlreadyDecided, ApprovalNotFound, Conflict
from walker_channels.models import Approval, ApprovalStatus, Decision, Scope
from walker_channels.sql.engine import Database
from walker_channels.sql.scope import scope_filter
from walker_channels.sql.tables import approvals

_PENDING = ApprovalStatus.PENDING.value


_ID: sa.BindParameter[str] = sa.bindparam("p_id")
GET = sa.select(approvals).where(approvals.c.id == _ID)
"""Built once and executed with ``p_id``: it reuses its cache key and compiled form."""
STATUS = sa.select(approvals.c.status).where(approvals.c.id == _ID)


def approval_row(approval: Approval) -> dict[str, Any]:
    """The row that stores ``approval``."""
    row = approval.model_dump(mode="python")
    recipient = approval.recipient
    row["recipient"] = sa.null() if recipient is None else recipient.model_dump(mode="json")
    row["action_data"] = approval.model_dump(mode="json")["action_data"]
    for name in ("channel", "risk_level", "reason", "status"):
        row[name] = row[name].value
    return row


def approval_from_row(row: Mapping[Any, Any]) -> Approval:
    """The approval a row of ``walker_approvals`` stores."""
    return Approval.model_validate(dict(row))


class SqlApprovalStore:
    """An :class:`~walker_channels.ports.ApprovalStore` on ``walker_approvals``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, approval: Approval) -> None:
        """Insert a new approval; raises :class:`Conflict` if its id exists."""
        await self._db.run(partial(_insert, approval_row(approval)), write=True)

    async def get(self, approval_id: str) -> Approval | None:
        """The approval with this id, if any."""
        params = {"p_id": approval_id}
        row = await self._db.run(lambda conn: conn.execute(GET, params).mappings().first())
        return None if row is None else approval_from_row(row)

    async def list_pending(
        self, scope: Scope, *, limit: int = 100, offset: int = 0
    ) -> Sequence[Approval]:
        """Pending approvals in ``scope``, oldest first (the review queue)."""
        stmt = (
            sa.select(approvals)
            .where(approvals.c.status == _PENDING, scope_filter(scope, approvals.c.tenant_id))
            .order_by(approvals.c.created_at, approvals.c.id)
            .limit(limit)
            .offset(offset)
        )
        return await self._fetch(stmt)

    async def list_expired(self, now: datetime, *, limit: int = 100) -> Sequence[Approval]:
        """Pending approvals whose deadline is at or before ``now``, oldest first."""
        stmt = (
            sa.select(approvals)
            .where(approvals.c.status == _PENDING, approvals.c.expires_at <= now)
            .order_by(approvals.c.created_at, approvals.c.id)
            .limit(limit)
        )
        return await self._fetch(stmt)

    async def decide(self, approval_id: str, decision: Decision) -> Approval:
        """Compare-and-set from pending: one UPDATE that only matches a pending row."""
        stmt = (
            sa.update(approvals)
            .where(approvals.c.id == approval_id, approvals.c.status == _PENDING)
            .values(
                status=decision.status.value,
                decided_by=decision.decided_by,
                decided_at=decision.decided_at,
                final_text=decision.final_text,
            )
            .returning(*approvals.c)
        )
        row, status = await self._db.run(partial(_decide, stmt, approval_id), write=True)
        if row is not None:
            return approval_from_row(row)
        if status is None:
            raise ApprovalNotFound("no approval with that id")
        raise AlreadyDecided(f"the approval is {status} already")

    async def clear_recipient(self, approval_id: str) -> bool:
        """Set ``recipient`` to NULL on a decided approval (never a pending one)."""
        stmt = (
            sa.update(approvals)
            .where(
                approvals.c.id == approval_id,
                approvals.c.status != _PENDING,
                approvals.c.recipient.is_not(None),
            )
            .values(recipient=sa.null())
            .returning(approvals.c.id)
        )
        return await self._db.run(lambda conn: conn.execute(stmt).first() is not None, write=True)

    async def _fetch(self, stmt: sa.Select[Any]) -> list[Approval]:
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return [approval_from_row(row) for row in rows]


def _insert(row: dict[str, Any], conn: sa.Connection) -> None:
    try:
        conn.execute(sa.insert(approvals).values(row))
    except IntegrityError as exc:
        raise Conflict("an approval with that id exists already") from exc


def _decide(
    update: sa.Update, approval_id: str, conn: sa.Connection
) -> tuple[sa.RowMapping | None, str | None]:
    """The decided row, or the status that kept the update from matching (``None``: no row)."""
    row = conn.execute(update).mappings().first()
    if row is not None:
        return row, None
    status = conn.scalar(STATUS, {"p_id": approval_id})
    return None, status
