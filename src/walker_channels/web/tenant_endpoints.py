"""Tenant endpoints (superusers only): which tenant owns which WhatsApp and SMS number.

A tenant exists while it owns a number (there is no separate list of tenants): creating one
maps its first number. A number is typed as Twilio writes ``To``: ``whatsapp:+E164`` is the
WhatsApp number, ``+E164`` the SMS number, and it must be a valid number. The registry reads
the database on every webhook, so a change is seen at once by every process.
"""

from __future__ import annotations

from pydantic import Field

from walker_channels.exceptions import Conflict, NotFound
from walker_channels.models import Address, Principal
from walker_channels.models.base import Frozen
from walker_channels.models.tenants import TenantNumber
from walker_channels.phones import parse_address
from walker_channels.ports import TenantRegistry
from walker_channels.web.auth import Access
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse

TENANTS = "/api/v1/admin/tenants"
_TENANT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class NumberBody(Frozen):
    """A receiving number (``whatsapp:+E164``, ``+E164``, or ``<channel>:<id>`` on another
    channel: ``telegram:<bot id>``) and, optionally, its user."""

    number: str = Field(min_length=1, max_length=64, repr=False, examples=["whatsapp:+14155238886"])
    user_id: str | None = Field(default=None, min_length=1, max_length=64)


class NewTenant(NumberBody):
    """A new tenant and its first number."""

    tenant_id: str = Field(min_length=1, max_length=64, pattern=_TENANT_ID)


class NumberParams(Frozen):
    """The number to release (``?number=whatsapp:+E164`` or ``?number=+E164``)."""

    number: str = Field(min_length=1, max_length=64, repr=False)


class TenantView(Frozen):
    """A tenant and the numbers it owns."""

    tenant_id: str
    numbers: tuple[TenantNumber, ...]


class TenantList(Frozen):
    """Every tenant that owns a number, by id."""

    tenants: tuple[TenantView, ...]


def typed_number(raw: str) -> Address:
    """A typed receiving number, strictly: raises ``InvalidPhoneNumber`` (422) when not valid."""
    return parse_address(raw)


class TenantEndpoints:
    """List tenants, create one with its first number, map and release numbers."""

    def __init__(self, registry: TenantRegistry) -> None:
        self._registry = registry

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        su = Access.SUPERUSER
        numbers = f"{TENANTS}/{{tenant_id}}/numbers"
        return [
            Endpoint(
                "list_tenants", "GET", TENANTS, su, self.list_all,
                "Every tenant that owns a number, with its numbers", "admin", response=TenantList,
            ),
            Endpoint(
                "create_tenant", "POST", TENANTS, su, self.create,
                "Create a tenant by mapping its first number", "admin",
                body=NewTenant, response=TenantView, errors=(409,),
            ),
            Endpoint(
                "map_tenant_number", "POST", numbers, su, self.map,
                "Give a number to a tenant (or change its user)", "admin",
                body=NumberBody, response=TenantView, errors=(409,),
            ),
            Endpoint(
                "unmap_tenant_number", "DELETE", numbers, su, self.unmap,
                "Release a tenant's number (?number=)", "admin",
                query=NumberParams, response=TenantView, errors=(404,),
            ),
        ]  # fmt: skip

    async def list_all(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Every tenant that owns a number."""
        views = [await self._view(tenant) for tenant in await self._registry.tenants()]
        return NeutralResponse.json(TenantList(tenants=tuple(views)))

    async def create(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Map a new tenant's first number; 409 if the tenant exists or the number is taken."""
        body = request.json_body(NewTenant)
        number = typed_number(body.number)
        if await self._registry.numbers(body.tenant_id):
            raise Conflict("that tenant exists; map more numbers on its numbers endpoint")
        await self._registry.add_number(body.tenant_id, number, body.user_id)
        return NeutralResponse.json(await self._view(body.tenant_id))

    async def map(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Give the number to the tenant; 409 if another tenant owns it."""
        tenant_id = request.path_params["tenant_id"]
        body = request.json_body(NumberBody)
        await self._registry.add_number(tenant_id, typed_number(body.number), body.user_id)
        return NeutralResponse.json(await self._view(tenant_id))

    async def unmap(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Release the tenant's number; 404 if the tenant does not own it."""
        tenant_id = request.path_params["tenant_id"]
        number = typed_number(request.query_model(NumberParams).number)
        if not await self._registry.remove_number(number, tenant_id=tenant_id):
            raise NotFound("that tenant owns no such number on that channel")
        return NeutralResponse.json(await self._view(tenant_id))

    async def _view(self, tenant_id: str) -> TenantView:
        return TenantView(
            tenant_id=tenant_id, numbers=tuple(await self._registry.numbers(tenant_id))
        )
