"""Erasure and retention in SQL: one person's rows deleted in one transaction, old text purged.

Every table is walked here, so a new table that holds personal data must join
:func:`_erase` (``tests/integration/test_erasure.py`` scans every table for the number,
the texts, the pseudonym and the session after an erasure, and fails on a table forgotten).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from walker_channels.models import (
    ApprovalStatus,
    ErasureRecord,
    ErasureRequest,
    RetentionReport,
)
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import (
    approvals,
    brief_runs,
    brief_schedules,
    conversations,
    erasures,
    events,
    inbound_queue,
    outbound,
    tenant_numbers,
)

_PURGED_TEXT = ""


class SqlPrivacyStore:
    """A :class:`~walker_channels.ports.PrivacyStore` over every walker-channels table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def erase(self, request: ErasureRequest) -> ErasureRecord:
        """Delete the person's rows everywhere and insert the erasure record, in one transaction."""
        return await self._db.run(partial(_erase, request), write=True)

    async def erasures(self, tenant_id: str) -> Sequence[ErasureRecord]:
        """The erasures of ``tenant_id``, oldest first."""
        stmt = (
            sa.select(erasures)
            .where(erasures.c.tenant_id == tenant_id)
            .order_by(erasures.c.erased_at, erasures.c.id)
        )
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return [_record(row) for row in rows]

    async def purge_text(
        self, before: datetime, *, since: datetime | None = None, limit: int = 1000
    ) -> RetentionReport:
        """Blank the text of up to ``limit`` events and decided drafts older than ``before``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return await self._db.run(partial(_purge, before, since, limit), write=True)


def _erase(request: ErasureRequest, conn: sa.Connection) -> ErasureRecord:
    tenant, person, address = request.tenant_id, request.participant, request.address
    e, a, o, q = events.c, approvals.c, outbound.c, inbound_queue.c
    # Rows with no tenant are the person's messages to a number no tenant owns (and the
    # notice they got): nobody else's data, and theirs all the same.
    removed = {
        "events": _delete(conn, events, e.participant == person, _tenant_or_none(e, tenant)),
        "approvals": _delete(conn, approvals, a.participant == person, a.tenant_id == tenant),
        "outbound": _delete(conn, outbound, o.participant == person, _tenant_or_none(o, tenant)),
        "inbound_queue": _delete(
            conn,
            inbound_queue,
            q.tenant_id == tenant,
            q.message[("sender", "value")].as_string() == address,
        ),
        "tenant_numbers": _delete(
            conn,
            tenant_numbers,
            tenant_numbers.c.tenant_id == tenant,
            sa.func.lower(tenant_numbers.c.address) == address.lower(),
        ),
        "brief_schedules": _erase_schedules(conn, tenant, address),
        "conversations": _delete(
            conn,
            conversations,
            conversations.c.participant == person,
            conversations.c.tenant_id == tenant,
        ),
    }
    record = ErasureRecord(
        id=request.id,
        tenant_id=tenant,
        participant=person,
        requested_by=request.requested_by,
        erased_at=request.at,
        removed=removed,
    )
    conn.execute(sa.insert(erasures).values(record.model_dump(mode="python")))
    return record


def _tenant_or_none(columns: Any, tenant: str) -> sa.ColumnElement[bool]:
    return sa.or_(columns.tenant_id == tenant, columns.tenant_id.is_(None))


def _delete(conn: sa.Connection, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return int(conn.execute(sa.delete(table).where(*where)).rowcount)


def _erase_schedules(conn: sa.Connection, tenant: str, address: str) -> int:
    """The person's daily-brief schedules (an email address) and their runs."""
    s = brief_schedules.c
    theirs = sa.select(s.id).where(
        s.tenant_id == tenant, sa.func.lower(s.recipient_email) == address.lower()
    )
    # Runs first: SQLite enforces the cascade only with PRAGMA foreign_keys on.
    conn.execute(sa.delete(brief_runs).where(brief_runs.c.schedule_id.in_(theirs)))
    return _delete(conn, brief_schedules, s.id.in_(theirs))


def _record(row: Mapping[Any, Any]) -> ErasureRecord:
    return ErasureRecord.model_validate(dict(row))


def _purge(
    before: datetime, since: datetime | None, limit: int, conn: sa.Connection
) -> RetentionReport:
    counts = {
        "events": _purge_events(conn, before, since, limit),
        "approvals": _purge_approvals(conn, before, since, limit),
        "sends": _purge_sends(conn, before, since, limit),
    }
    return RetentionReport(**counts, complete=max(counts.values()) < limit)


def _purge_events(conn: sa.Connection, before: datetime, since: datetime | None, limit: int) -> int:
    """Blank ``data.text``; the columns the admin aggregates read stay as they are."""
    e = events.c
    where = [e.occurred_at < before, e.data["text"].as_string() != _PURGED_TEXT]
    if since is not None:
        where.append(e.occurred_at >= since)
    found = conn.execute(
        sa.select(e.id, e.data).where(*where).order_by(e.occurred_at, e.id).limit(limit)
    ).all()
    if not found:
        return 0
    # The JSON is rewritten here, not in SQL: SQLite and PostgreSQL spell JSON updates apart.
    update = (
        sa.update(events)
        .where(e.id == sa.bindparam("event_id"))
        .values(data=sa.bindparam("purged_data"))
    )
    conn.execute(
        update,
        [{"event_id": i, "purged_data": {**data, "text": _PURGED_TEXT}} for i, data in found],
    )
    return len(found)


def _purge_approvals(
    conn: sa.Connection, before: datetime, since: datetime | None, limit: int
) -> int:
    """Blank the texts and forget the recipient of drafts decided before ``before``."""
    a = approvals.c
    where = [
        a.status != ApprovalStatus.PENDING.value,
        a.decided_at < before,
        sa.or_(
            a.proposed_text != _PURGED_TEXT, a.final_text.is_not(None), a.recipient.is_not(None)
        ),
    ]
    if since is not None:
        where.append(a.decided_at >= since)
    due = sa.select(a.id).where(*where).order_by(a.decided_at, a.id).limit(limit)
    ids = list(conn.execute(due).scalars())
    if ids:
        conn.execute(
            sa.update(approvals)
            .where(a.id.in_(ids))
            .values(proposed_text=_PURGED_TEXT, final_text=None, recipient=sa.null())
        )
    return len(ids)


def _purge_sends(conn: sa.Connection, before: datetime, since: datetime | None, limit: int) -> int:
    """Drop the kept message of sends reserved before ``before`` that never went out.

    The payload is what a retry or a provider lookup needs; without it nothing more is done
    for the send on its own (``next_attempt_at`` cleared), and its state stays as it was.
    """
    o = outbound.c
    where = [o.created_at < before, o.payload.is_not(None)]
    if since is not None:
        where.append(o.created_at >= since)
    due = sa.select(o.key).where(*where).order_by(o.created_at, o.key).limit(limit)
    keys = list(conn.execute(due).scalars())
    if keys:
        conn.execute(
            sa.update(outbound)
            .where(o.key.in_(keys))
            .values(payload=sa.null(), next_attempt_at=None)
        )
    return len(keys)
