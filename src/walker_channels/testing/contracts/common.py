"""What every suite shares: the start time and the scopes the data is read through."""

from __future__ import annotations

from datetime import UTC, datetime

from walker_channels.models import Scope

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALL = Scope(tenant_ids=None)


def scoped(*tenants: str) -> Scope:
    """A scope that sees only ``tenants``."""
    return Scope(tenant_ids=frozenset(tenants))
