"""Who is calling: the host application's answer, in the library's terms."""

from __future__ import annotations

from pydantic import Field

from walker_channels.models.base import Frozen


class Principal(Frozen):
    """An authenticated caller: a user, the tenants they belong to, and the superuser flag."""

    user_id: str = Field(min_length=1)
    tenant_ids: frozenset[str] = frozenset()
    is_superuser: bool = False

    def can_act_for(self, tenant_id: str) -> bool:
        """Whether this caller may read or send for ``tenant_id``."""
        return self.is_superuser or tenant_id in self.tenant_ids
