"""Claiming a queued message with what answering it needs, in one SQL transaction.

The claim's ``UPDATE`` (:mod:`walker_channels.sql.inbox`), then per claimed entry: its inbound
event inserted unless stored (``ON CONFLICT DO NOTHING``), and primary-key reads of its
approval, its reply's ledger record, its conversation, the person's opt-out and the tenant's
consent keywords. One :meth:`Database.run` instead of a transaction for each; the reads see
the moment of the claim. :meth:`SqlTurnStore.complete` deletes the finished entry and claims
the conversation's next in the same transaction; :meth:`SqlTurnStore.settle_and_complete`
settles the reply that answered it first (:func:`walker_channels.sql.ledger.settle_work`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from walker_channels.models import (
    Claim,
    ConsentState,
    ConversationEvent,
    QueuedInbound,
    Settlement,
    Turn,
)
from walker_channels.ports import TurnRecords
from walker_channels.sql import approvals, consent, conversations, ledger
from walker_channels.sql.engine import Database
from walker_channels.sql.events import event_row, record_statement
from walker_channels.sql.inbox import COMPLETE, Claims


class SqlTurnStore:
    """A :class:`~walker_channels.ports.SettlingTurnStore` on the walker-channels tables."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._record = record_statement(db)
        self._claims = Claims(db)

    async def claim(self, claim: Claim, records: TurnRecords) -> Sequence[Turn]:
        """Lease the entries ``claim`` selects and read each one's records, in one transaction."""
        return await self._db.run(lambda conn: self._claim(conn, claim, records), write=True)

    async def complete(
        self, item_id: str, records: TurnRecords, *, then: Claim | None = None
    ) -> Sequence[Turn]:
        """Delete ``item_id`` (and its joined entries), then claim ``then``: one transaction."""

        return await self._db.run(
            lambda conn: self._complete(conn, item_id, records, then), write=True
        )

    async def settle_and_complete(
        self,
        key: str,
        settlement: Settlement,
        event: ConversationEvent | None,
        *,
        item_id: str,
        records: TurnRecords,
        then: Claim | None = None,
    ) -> tuple[bool, Sequence[Turn]]:
        """Settle ``key`` (and record ``event``), delete ``item_id``, claim ``then``: one
        transaction."""
        settle = ledger.settle_work(self._record, key, settlement, event)

        def work(conn: sa.Connection) -> tuple[bool, Sequence[Turn]]:
            return settle(conn), self._complete(conn, item_id, records, then)

        return await self._db.run(work, write=True)

    def _complete(
        self, conn: sa.Connection, item_id: str, records: TurnRecords, then: Claim | None
    ) -> Sequence[Turn]:
        conn.execute(COMPLETE, {"p_item_id": item_id})
        return () if then is None else self._claim(conn, then, records)

    def _claim(self, conn: sa.Connection, claim: Claim, records: TurnRecords) -> list[Turn]:
        return [self._turn(conn, item, records) for item in self._claims.run(conn, claim)]

    def _turn(self, conn: sa.Connection, item: QueuedInbound, records: TurnRecords) -> Turn:
        event = records.inbound_event(item)
        recorded = conn.execute(self._record, event_row(event)).first() is not None
        approval = _row(conn, approvals.GET, {"p_id": records.approval_id(item)})
        send = _row(conn, ledger.GET, {"p_key": records.reply_key(item)})
        talk = _row(conn, conversations.GET, {"p_id": item.conversation})
        person = consent.opt_out_params(item.tenant_id, item.message.channel, event.participant)
        return Turn(
            item=item,
            recorded=event if recorded else None,
            approval=None if approval is None else approvals.approval_from_row(approval),
            reply_send=None if send is None else ledger.record_from_row(send),
            conversation=None if talk is None else conversations.conversation_from_row(talk),
            consent=ConsentState(
                settings=consent.read_settings(conn, item.tenant_id),
                opted_out=conn.execute(consent.OPTED_OUT, person).first() is not None,
            ),
        )


def _row(
    conn: sa.Connection, stmt: sa.Select[Any], params: Mapping[str, str]
) -> Mapping[Any, Any] | None:
    """The one row ``stmt`` finds by primary key, fetched at once."""
    return conn.execute(stmt, params).mappings().first()
