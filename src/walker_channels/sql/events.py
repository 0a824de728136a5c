"""The conversation log in SQL: one row per event, with the figures the admin reads aggregate.

Columns hold what queries filter and aggregate on; ``data`` holds the rest of the event, so
an event read back with :data:`~walker_channels.models.EVENT_ADAPTER` equals the one stored.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from walker_channels.metrics import event_hitl, event_is_error, event_success
from walker_channels.models import EVENT_ADAPTER, Channel, ConversationEvent, EventType, SessionMark
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import events

_IDENTITY = (
    "id",
    "tenant_id",
    "channel",
    "type",
    "participant",
    "occurred_at",
    "idempotency_key",
    "session_id",
    "provider_message_id",
)
BULK_BATCH = 5_000


def event_row(event: ConversationEvent) -> dict[str, Any]:
    """The row that stores ``event``."""
    dumped = EVENT_ADAPTER.dump_python(event, mode="json")
    return {
        "id": event.id,
        "tenant_id": event.tenant_id,
        "channel": event.channel.value,
        "type": event.type.value,
        "direction": event.direction.value,
        "occurred_at": event.occurred_at,
        "participant": event.participant,
        "agent_id": getattr(event, "agent_id", None),
        "confidence": getattr(event, "confidence", None),
        "response_time_ms": getattr(event, "response_time_ms", None),
        "sentiment": getattr(event, "sentiment", None),
        "hitl": event_hitl(event),
        "success": event_success(event),
        "is_error": event_is_error(event),
        "provider_message_id": event.provider_message_id,
        "session_id": event.session_id,
        "idempotency_key": event.idempotency_key,
        "data": {key: value for key, value in dumped.items() if key not in _IDENTITY},
    }


def event_from_row(row: Mapping[Any, Any]) -> ConversationEvent:
    """The event a row of ``walker_events`` stores."""
    fields = {name: row[name] for name in _IDENTITY}
    return EVENT_ADAPTER.validate_python({**row["data"], **fields})


def record_statement(db: Database) -> sa.Executable:
    """``INSERT`` of an event row, skipped (no id returned) when its idempotency key or id is
    stored already. Built once, executed with each row as parameters: building
    ``.values(row)`` per call cost more than the insert itself."""
    return db.dialect.insert(events).on_conflict_do_nothing().returning(events.c.id)


class SqlEventStore:
    """An :class:`~walker_channels.ports.EventStore` on ``walker_events``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = record_statement(db)

    async def append(self, event: ConversationEvent) -> bool:
        """Insert ``event``; ``False`` when its idempotency key (or id) is stored already."""
        row = event_row(event)
        stmt = self._insert
        return await self._db.run(
            lambda conn: conn.execute(stmt, row).first() is not None, write=True
        )

    async def append_many(self, batch: Iterable[ConversationEvent]) -> None:
        """Bulk insert (imports, benchmarks), skipping events whose key or id is stored already.

        One transaction per ``BULK_BATCH`` events; unlike :meth:`append` it does not say which
        events were new (RETURNING would make bulk inserts several times slower on psycopg).
        """
        stmt = self._db.dialect.insert(events).on_conflict_do_nothing()
        iterator = iter(batch)
        while chunk := [event_row(e) for e in itertools.islice(iterator, BULK_BATCH)]:
            await self._db.run(partial(_execute, stmt, chunk), write=True)

    async def last_inbound_at(
        self, tenant_id: str, channel: Channel, participant: str
    ) -> datetime | None:
        """When this person last wrote to this tenant on this channel."""
        stmt, params = LAST_INBOUND, person_params(tenant_id, channel, participant)
        latest: datetime | None = await self._db.run(
            lambda conn: conn.execute(stmt, params).scalar_one()
        )
        return latest

    async def last_session(
        self, tenant_id: str, channel: Channel, participant: str
    ) -> SessionMark | None:
        """The session id and time of this person's latest event that has a session."""
        stmt, params = LAST_SESSION, person_params(tenant_id, channel, participant)
        return await self._db.run(lambda conn: last_session(conn.execute(stmt, params).first()))


_PERSON = (
    events.c.tenant_id == sa.bindparam("tenant_id"),
    events.c.channel == sa.bindparam("channel"),
    events.c.participant == sa.bindparam("participant"),
)
LAST_INBOUND = sa.select(sa.func.max(events.c.occurred_at)).where(
    *_PERSON, events.c.type == EventType.INBOUND.value
)
"""When a person last wrote (built once, like :data:`LAST_SESSION`: it reuses its cache key)."""
LAST_SESSION = (
    sa.select(events.c.session_id, events.c.occurred_at)
    .where(*_PERSON, events.c.session_id.is_not(None))
    .order_by(events.c.occurred_at.desc(), events.c.id.desc())
    .limit(1)
)
"""A person's latest event with a session: one seek of ``(tenant, channel, participant,
occurred_at)``, never a walk of the log (given the planner's statistics on SQLite)."""


def person_params(tenant_id: str, channel: Channel, participant: str) -> dict[str, str]:
    """The parameters of :data:`LAST_SESSION` and :data:`LAST_INBOUND`."""
    return {"tenant_id": tenant_id, "channel": channel.value, "participant": participant}


def last_session(row: Sequence[Any] | None) -> SessionMark | None:
    """The session mark a :data:`LAST_SESSION` row holds."""
    return None if row is None else SessionMark(session_id=row[0], last_at=row[1])


def _execute(stmt: sa.Executable, rows: Sequence[Mapping[str, Any]], conn: sa.Connection) -> None:
    conn.execute(stmt, rows)
