"""Conversations in SQL: an upsert per inbound message, and a compare-and-set mode switch.

A takeover is one ``UPDATE ... WHERE mode = 'agent' RETURNING``: of two reviewers taking the
same conversation over at once, the database lets one update the row and the other finds
nothing to update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from walker_channels.models import (
    Address,
    Channel,
    Conversation,
    ConversationEvent,
    ConversationMode,
    ConversationQuery,
)
from walker_channels.sql.dialect import Insert
from walker_channels.sql.engine import Database
from walker_channels.sql.events import event_from_row
from walker_channels.sql.scope import scope_filter
from walker_channels.sql.tables import conversations, events

_c = conversations.c
_e = events.c


def conversation_row(conversation: Conversation) -> dict[str, Any]:
    """The row that stores ``conversation``."""
    fields = conversation.model_dump(exclude={"address"})
    address = conversation.address
    return {**fields, "address": None if address is None else address.value}


def conversation_from_row(row: Mapping[Any, Any]) -> Conversation:
    fields = dict(row)
    value = fields.pop("address")
    address = None if value is None else Address(channel=Channel(row["channel"]), value=value)
    return Conversation.model_validate({**fields, "address": address})


def _later(column: sa.Column[Any], new: Any) -> sa.ColumnElement[Any]:
    """The later of the stored and the new time (the new one when none is stored)."""
    return sa.case((new > column, new), else_=sa.func.coalesce(column, new))


def upsert_statement(db: Database) -> Insert:
    """Insert a conversation, or update its address, session and (moving forward) times."""
    insert = db.dialect.insert(conversations)
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[_c.id],
        set_={
            "address": new.address,
            "reply_from": new.reply_from,
            "session_id": new.session_id,
            "last_inbound_at": _later(_c.last_inbound_at, new.last_inbound_at),
            "last_activity_at": _later(_c.last_activity_at, new.last_activity_at),
        },
    )


def _quiet_since(before: datetime) -> list[sa.ColumnElement[bool]]:
    return [
        _c.mode_since < before,
        sa.or_(_c.last_activity_at.is_(None), _c.last_activity_at < before),
    ]


GET = sa.select(conversations).where(_c.id == sa.bindparam("p_id"))
"""Built once and executed with ``p_id``: it reuses its cache key and compiled form."""


class SqlConversationStore:
    """A :class:`~walker_channels.ports.ConversationStore` on ``walker_conversations``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._upsert = upsert_statement(db).returning(*conversations.c)

    async def upsert(self, conversation: Conversation) -> Conversation:
        """Insert the conversation, or update its address, session and times."""
        stmt, row = self._upsert, conversation_row(conversation)
        stored = await self._db.run(
            lambda conn: conn.execute(stmt, row).mappings().one(), write=True
        )
        return conversation_from_row(stored)

    async def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with this id."""
        params = {"p_id": conversation_id}
        row = await self._db.run(lambda conn: conn.execute(GET, params).mappings().first())
        return None if row is None else conversation_from_row(row)

    async def find(self, query: ConversationQuery) -> Sequence[Conversation]:
        """A page of conversations in scope, most recently active first."""
        where = [scope_filter(query.scope, _c.tenant_id)]
        if query.mode is not None:
            where.append(_c.mode == query.mode.value)
        if query.channel is not None:
            where.append(_c.channel == query.channel.value)
        stmt = (
            sa.select(conversations)
            .where(*where)
            .order_by(_c.last_activity_at.desc(), _c.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return [conversation_from_row(row) for row in rows]

    async def switch(
        self,
        conversation_id: str,
        *,
        to: ConversationMode,
        by: str | None,
        at: datetime,
        idle_before: datetime | None = None,
    ) -> Conversation | None:
        """Compare-and-set from the other mode to ``to``."""
        other = ConversationMode.AGENT if to is ConversationMode.HUMAN else ConversationMode.HUMAN
        where = [_c.id == conversation_id, _c.mode == other.value]
        if idle_before is not None:
            where += _quiet_since(idle_before)
        taken_by = by if to is ConversationMode.HUMAN else None
        stmt = (
            sa.update(conversations)
            .where(*where)
            .values(mode=to.value, taken_by=taken_by, mode_since=at)
            .returning(*conversations.c)
        )
        row = await self._db.run(lambda conn: conn.execute(stmt).mappings().first(), write=True)
        return None if row is None else conversation_from_row(row)

    async def idle(self, before: datetime, *, limit: int = 100) -> Sequence[Conversation]:
        """Human-mode conversations quiet since ``before``, longest quiet first."""
        stmt = (
            sa.select(conversations)
            .where(_c.mode == ConversationMode.HUMAN.value, *_quiet_since(before))
            .order_by(_c.mode_since, _c.id)
            .limit(limit)
        )
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return [conversation_from_row(row) for row in rows]

    async def touch(self, conversation_id: str, *, at: datetime) -> None:
        """Move ``last_activity_at`` forward to ``at``."""
        stmt = (
            sa.update(conversations)
            .where(
                _c.id == conversation_id,
                sa.or_(_c.last_activity_at.is_(None), _c.last_activity_at < at),
            )
            .values(last_activity_at=at)
        )
        await self._db.run(lambda conn: conn.execute(stmt), write=True)

    async def transcript(
        self, conversation: Conversation, *, limit: int = 200
    ) -> Sequence[ConversationEvent]:
        """The latest ``limit`` events of the conversation's person, oldest first."""
        stmt = (
            sa.select(events)
            .where(
                _e.tenant_id == conversation.tenant_id,
                _e.channel == conversation.channel.value,
                _e.participant == conversation.participant,
            )
            .order_by(_e.occurred_at.desc(), _e.id.desc())
            .limit(limit)
        )
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return [event_from_row(row) for row in reversed(rows)]
