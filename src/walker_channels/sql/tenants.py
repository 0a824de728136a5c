"""Which tenant owns which number: several numbers per tenant, optionally tied to a user."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from walker_channels.exceptions import Conflict, InvalidInput
from walker_channels.models import Address
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import tenant_numbers

_t = tenant_numbers.c


class TenantNumber(BaseModel):
    """A number (E.164) or email address a tenant receives messages on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str = Field(min_length=1, repr=False)
    tenant_id: str
    user_id: str | None = None


def _value(address: Address | str) -> str:
    value = address.value if isinstance(address, Address) else address.strip()
    if not value:
        raise InvalidInput("the address is empty: pass an E.164 number or an email address")
    return value


class SqlTenantResolver:
    """A :class:`~walker_channels.ports.TenantResolver` on ``walker_tenant_numbers``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def resolve(self, recipient: Address) -> str | None:
        """The tenant that owns ``recipient``'s number or address, if any."""
        stmt = sa.select(_t.tenant_id).where(_t.address == recipient.value)
        tenant: str | None = await self._db.run(lambda conn: conn.scalar(stmt))
        return tenant

    async def add_number(
        self, tenant_id: str, address: Address | str, user_id: str | None = None
    ) -> None:
        """Give ``address`` to ``tenant_id`` (or change its user).

        Raises :class:`Conflict` when another tenant owns the address: remove it there first.
        """
        insert = self._db.dialect.insert(tenant_numbers).values(
            address=_value(address), tenant_id=tenant_id, user_id=user_id
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[_t.address],
            set_={"user_id": insert.excluded.user_id},
            where=_t.tenant_id == insert.excluded.tenant_id,
        ).returning(_t.address)
        if await self._db.run(lambda conn: conn.execute(stmt).first(), write=True) is None:
            raise Conflict("that address belongs to another tenant; remove it there first")

    async def remove_number(self, address: Address | str) -> bool:
        """Release ``address``; ``False`` if no tenant owned it."""
        stmt = sa.delete(tenant_numbers).where(_t.address == _value(address)).returning(_t.address)
        return await self._db.run(lambda conn: conn.execute(stmt).first() is not None, write=True)

    async def numbers(self, tenant_id: str) -> Sequence[TenantNumber]:
        """Every address of ``tenant_id``, in address order."""
        stmt = sa.select(_t.address, _t.tenant_id, _t.user_id).where(_t.tenant_id == tenant_id)
        ordered = stmt.order_by(_t.address)
        rows = await self._db.run(lambda conn: conn.execute(ordered).mappings().all())
        return [TenantNumber.model_validate(dict(row)) for row in rows]
