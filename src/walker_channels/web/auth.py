"""Who may call what: the host says who the caller is, these checks say what they may do.

Each check raises (:class:`NotAuthenticated` -> 401, :class:`PermissionDenied` -> 403) and
returns the principal, so a handler cannot forget to look at the result.
"""

from __future__ import annotations

from enum import StrEnum

from walker_channels.exceptions import NotAuthenticated, PermissionDenied
from walker_channels.models import Principal, Scope


class Access(StrEnum):
    """Who an endpoint is for."""

    PROVIDER = "provider"
    """No principal: a channel provider's webhook, checked by its signature or secret instead."""
    AUTHENTICATED = "authenticated"
    """Any signed-in caller."""
    TENANT_MEMBER = "tenant_member"
    """A member of the tenant named in the request, or a superuser."""
    SUPERUSER = "superuser"
    """Superusers only (the admin endpoints)."""
    BROWSER = "browser"
    """A reviewer console page: the caller is asked for as for the API, and the page itself
    answers a caller without a principal (a redirect to its sign-in page)."""


def require_principal(principal: Principal | None) -> Principal:
    """The caller; raises :class:`NotAuthenticated` when there is none."""
    if principal is None:
        raise NotAuthenticated("authentication required: sign in to use this endpoint")
    return principal


def require_superuser(principal: Principal | None) -> Principal:
    """A superuser caller; 401 without a caller, 403 for anyone else."""
    caller = require_principal(principal)
    if not caller.is_superuser:
        raise PermissionDenied("this endpoint is for superusers only")
    return caller


def require_tenant(principal: Principal | None, tenant_id: str) -> Principal:
    """A caller who may act for ``tenant_id`` (member or superuser)."""
    caller = require_principal(principal)
    if not caller.can_act_for(tenant_id):
        raise PermissionDenied("you are not a member of the tenant named in the request")
    return caller


def require_access(access: Access, principal: Principal | None) -> Principal | None:
    """The checks that can run before the request is parsed (tenant checks need the body)."""
    if access is Access.SUPERUSER:
        return require_superuser(principal)
    if access in (Access.AUTHENTICATED, Access.TENANT_MEMBER):
        return require_principal(principal)
    return principal


def admin_scope(tenant_id: str | None) -> Scope:
    """What a superuser's admin read covers: one tenant when asked for, else every tenant."""
    return Scope(tenant_ids=None if tenant_id is None else frozenset({tenant_id}))
