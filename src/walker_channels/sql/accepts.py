"""Accepting an inbound message in one SQL transaction.

Tenant, conversation and session, queue entry and inbound event: one :meth:`Database.run`.
Normally four statements: one read (the numbers' version, the recipient's owner and the
conversation's session, each a primary-key lookup) and three writes. Duplicates are found by
the writes themselves: the queue row's ``ON CONFLICT DO NOTHING`` (already queued: nothing is
written), then the event's (recorded before: the queue row is rolled back).

Which tenant owns a number is cached in the process, keyed by the version counter of
``walker_tenant_numbers`` (bumped in every transaction that changes a number, see
:mod:`walker_channels.sql.tenants`). The accept's own read returns the current version and
owner with the session, so a moved number is seen by the next accept of every process, in
the same transaction, without a round trip more and without a time to live.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from walker_channels.models import Address, Admission, SessionMark
from walker_channels.phones import receiving_address
from walker_channels.ports import ArrivalRecords
from walker_channels.sql.conversations import conversation_row, upsert_statement
from walker_channels.sql.engine import Database
from walker_channels.sql.events import (
    LAST_SESSION,
    event_row,
    last_session,
    person_params,
    record_statement,
)
from walker_channels.sql.inbox import enqueue_statement, queue_row
from walker_channels.sql.tables import conversations, tenant_numbers_version
from walker_channels.sql.tenants import RESOLVE

_c = conversations.c
_v = tenant_numbers_version.c
# No row yet (no number changed through the stores since the migration): version 0.
_VERSION = sa.func.coalesce(sa.select(_v.version).where(_v.id == 1).scalar_subquery(), 0)
_OWNER = RESOLVE.scalar_subquery()
_OWNERSHIP = sa.select(_VERSION, _OWNER)
"""The numbers' version and the recipient's owner, read together (one snapshot)."""
_SESSION = sa.select(_c.session_id, _c.last_activity_at).where(_c.id == sa.bindparam("key"))
_STATE = sa.select(
    _VERSION,
    _OWNER,
    _SESSION.with_only_columns(_c.session_id).scalar_subquery(),
    _SESSION.with_only_columns(_c.last_activity_at).scalar_subquery(),
)
""":data:`_OWNERSHIP` and the conversation's session, in one statement."""
Owned = tuple[str, str]


class _Recorded(Exception):
    """The message's inbound event is stored already: roll its new queue row back."""


class SqlAcceptStore:
    """An :class:`~walker_channels.ports.AcceptStore` on the walker-channels tables."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._enqueue = enqueue_statement(db)
        self._record = record_statement(db)
        self._upsert = upsert_statement(db)
        # (version, owners): replaced whole when the version moves, so a reader never pairs
        # one version with another version's owners (SQLite runs accepts on several threads).
        self._owners: tuple[int | None, dict[Owned, str]] = (None, {})

    async def accept(self, recipient: Address, records: ArrivalRecords) -> Admission:
        """Resolve the owner of ``recipient`` and write ``records`` in one transaction."""
        owned = receiving_address(recipient)
        number = (owned.value, owned.channel.value)
        try:
            return await self._db.run(lambda conn: self._accept(conn, number, records), write=True)
        except _Recorded as recorded:
            return Admission(tenant_id=str(recorded.args[0]))

    def _accept(self, conn: sa.Connection, number: Owned, records: ArrivalRecords) -> Admission:
        params = {"p_address": number[0], "p_channel": number[1]}
        version, owners = self._owners
        tenant = owners.get(number) if version is not None else None
        if tenant is None:
            found = conn.execute(_OWNERSHIP, params).one()
            tenant = self._remember(found, number)
            if tenant is None:
                return Admission(tenant_id=None)
        key = records.conversation_id(tenant)
        state = conn.execute(_STATE, {**params, "key": key}).one()
        if state[0] != version and state[1] != tenant:
            # The numbers changed since the cache was filled and this one has moved.
            tenant = self._remember(state, number)
            if tenant is None:
                return Admission(tenant_id=None)
            key = records.conversation_id(tenant)
            state = conn.execute(_STATE, {**params, "key": key}).one()
        elif state[0] != version:
            self._remember(state, number)
        return self._write(conn, tenant, records, _mark(state, conn, tenant, records))

    def _write(
        self, conn: sa.Connection, tenant: str, records: ArrivalRecords, last: SessionMark | None
    ) -> Admission:
        arrival = records.build(tenant, last)
        if conn.execute(self._enqueue, queue_row(arrival.item)).first() is None:
            # Queued already: whoever queued it accepted it (and recovery answers it).
            return Admission(tenant_id=tenant)
        if conn.execute(self._record, event_row(arrival.event)).first() is None:
            raise _Recorded(tenant)  # answered already: the new queue row must not stay
        conn.execute(self._upsert, conversation_row(arrival.conversation))
        return Admission(tenant_id=tenant, arrival=arrival)

    def _remember(self, found: Sequence[Any], number: Owned) -> str | None:
        """Cache the owner read with its version; ``None``: nobody owns the number."""
        version, tenant = found[0], found[1]
        current, owners = self._owners
        if version != current:
            owners = {}
            self._owners = (version, owners)
        if tenant is not None:
            owners[number] = tenant
        return None if tenant is None else str(tenant)


def _mark(
    state: Sequence[Any], conn: sa.Connection, tenant: str, records: ArrivalRecords
) -> SessionMark | None:
    session, last_at = state[2], state[3]
    if session is not None and last_at is not None:
        return SessionMark(session_id=session, last_at=last_at)
    # No conversation row: a first message, or a conversation from before rows were kept,
    # whose events know its session (an index seek, not a walk of the log).
    params = person_params(tenant, records.channel, records.participant)
    return last_session(conn.execute(LAST_SESSION, params).first())
