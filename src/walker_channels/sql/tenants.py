"""Which tenant owns which number on which channel: several per tenant, each with a user or not."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa

from walker_channels.exceptions import Conflict
from walker_channels.models import Address
from walker_channels.models.tenants import TenantNumber
from walker_channels.phones import receiving_address
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import tenant_numbers, tenant_numbers_version

__all__ = ["SqlTenantResolver", "TenantNumber"]

_t = tenant_numbers.c
_v = tenant_numbers_version.c


def bump_version(db: Database) -> sa.Executable:
    """The statement that counts one change of the numbers (run in the changing transaction)."""
    insert = db.dialect.insert(tenant_numbers_version).values(id=1, version=1)
    return insert.on_conflict_do_update(index_elements=[_v.id], set_={"version": _v.version + 1})


def _owned(address: Address | str) -> sa.ColumnElement[bool]:
    owned = receiving_address(address)
    return sa.and_(_t.address == owned.value, _t.channel == owned.channel.value)


RESOLVE = sa.select(_t.tenant_id).where(
    _t.address == sa.bindparam("p_address"), _t.channel == sa.bindparam("p_channel")
)
"""Built once and executed with parameters: it reuses its cache key and compiled form."""


class SqlTenantResolver:
    """A :class:`~walker_channels.ports.TenantResolver` on ``walker_tenant_numbers``.

    A number is owned on one channel. Strings name it as Twilio writes ``To``
    (:func:`~walker_channels.phones.receiving_address`): ``whatsapp:+14155238886`` is the
    WhatsApp number, ``+14155238886`` the SMS number; a tenant may own either or both.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._bump = bump_version(db)

    async def resolve(self, recipient: Address) -> str | None:
        """The tenant that owns ``recipient``'s number or address on its channel, if any."""
        owned = receiving_address(recipient)
        params = {"p_address": owned.value, "p_channel": owned.channel.value}
        tenant: str | None = await self._db.run(lambda conn: conn.scalar(RESOLVE, params))
        return tenant

    async def add_number(
        self, tenant_id: str, address: Address | str, user_id: str | None = None
    ) -> None:
        """Give ``address`` to ``tenant_id`` on its channel (or change its user).

        Raises :class:`Conflict` when another tenant owns the address on that channel: remove
        it there first.
        """
        owned = receiving_address(address)
        insert = self._db.dialect.insert(tenant_numbers).values(
            address=owned.value, channel=owned.channel.value, tenant_id=tenant_id, user_id=user_id
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[_t.address, _t.channel],
            set_={"user_id": insert.excluded.user_id},
            where=_t.tenant_id == insert.excluded.tenant_id,
        ).returning(_t.address)
        if await self._db.run(partial(self._changed, stmt), write=True) is None:
            raise Conflict("that address belongs to another tenant; remove it there first")

    async def remove_number(self, address: Address | str, *, tenant_id: str | None = None) -> bool:
        """Release ``address`` on its channel (only from ``tenant_id`` when given).

        ``False`` if no tenant (or not ``tenant_id``) owned it there.
        """
        owned = _owned(address)
        if tenant_id is not None:
            owned = sa.and_(owned, _t.tenant_id == tenant_id)
        stmt = sa.delete(tenant_numbers).where(owned).returning(_t.address)
        return await self._db.run(partial(self._changed, stmt), write=True) is not None

    def _changed(self, stmt: sa.Executable, conn: sa.Connection) -> sa.Row[Any] | None:
        """Run ``stmt``; count a change when it touched a row (caches resolve again)."""
        row = conn.execute(stmt).first()
        if row is not None:
            conn.execute(self._bump)
        return row

    async def numbers(self, tenant_id: str) -> Sequence[TenantNumber]:
        """Every address of ``tenant_id``, in address then channel order."""
        columns = (_t.address, _t.channel, _t.tenant_id, _t.user_id)
        stmt = sa.select(*columns).where(_t.tenant_id == tenant_id)
        ordered = stmt.order_by(_t.address, _t.channel)
        rows = await self._db.run(lambda conn: conn.execute(ordered).mappings().all())
        return [TenantNumber.model_validate(dict(row)) for row in rows]

    async def tenants(self) -> Sequence[str]:
        """The ids of the tenants that own at least one address, in order."""
        stmt = sa.select(_t.tenant_id).distinct().order_by(_t.tenant_id)
        rows = await self._db.run(lambda conn: conn.scalars(stmt).all())
        return list(rows)
