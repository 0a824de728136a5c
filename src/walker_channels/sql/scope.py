"""Tenant scoping as a WHERE condition, applied by every read that returns tenant data."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from walker_channels.models import Scope


def scope_filter(scope: Scope, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The condition that keeps only rows whose ``column`` (a tenant id) is in ``scope``."""
    if scope.tenant_ids is None:
        return sa.true()
    if not scope.tenant_ids:
        return sa.false()
    return column.in_(sorted(scope.tenant_ids))
