"""Consent endpoints (superusers only): a tenant's suppression list and its own settings.

The list is shown by pseudonym, never by number. An opt-out is lifted by the person's number
(or email address) or by the pseudonym the list shows. Settings (consent keywords per
language, the window fallback template) are replaced as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field, model_validator

from walker_channels.exceptions import NotFound
from walker_channels.models import (
    Address,
    Channel,
    ConsentKeywords,
    FallbackTemplate,
    OptOut,
    Principal,
    TenantSettings,
)
from walker_channels.models.base import Frozen
from walker_channels.ports import TenantSettingsStore
from walker_channels.services import ConsentService
from walker_channels.services.privacy import participant_address
from walker_channels.web.auth import Access, require_superuser
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse
from walker_channels.web.tenant_endpoints import TENANTS


class OptOutParams(Frozen):
    """Which page of the list, of which channel (all when left out)."""

    channel: Channel | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class OptOutList(Frozen):
    """A page of a tenant's suppression list, newest first (pseudonyms only)."""

    items: tuple[OptOut, ...]


class LiftBody(Frozen):
    """Whose opt-out to lift on ``channel``: their ``address`` or their ``participant``."""

    channel: Channel
    address: str | None = Field(
        default=None, min_length=1, max_length=320, repr=False, examples=["+14155552671"]
    )
    """The person's number (E.164; ``whatsapp:`` prefix accepted) or email address."""
    participant: str | None = Field(default=None, min_length=1, max_length=128)
    """The pseudonym the list shows."""

    @model_validator(mode="after")
    def _one_person(self) -> LiftBody:
        if (self.address is None) == (self.participant is None):
            raise ValueError("give the person's address or their participant pseudonym")
        return self


class Lifted(Frozen):
    """The opt-out that was lifted."""

    channel: Channel
    participant: str
    lifted: bool


class SettingsBody(Frozen):
    """A tenant's settings: its keywords per language and its window fallback template."""

    keywords: Mapping[str, ConsentKeywords] = Field(default_factory=dict)
    fallback_template: FallbackTemplate | None = None


class ConsentEndpoints:
    """List and lift opt-outs; read and replace a tenant's consent keywords and fallback."""

    def __init__(self, consent: ConsentService, settings: TenantSettingsStore) -> None:
        self._consent = consent
        self._settings = settings

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        su = Access.SUPERUSER
        opt_outs = f"{TENANTS}/{{tenant_id}}/opt-outs"
        settings = f"{TENANTS}/{{tenant_id}}/settings"
        return [
            Endpoint(
                "list_opt_outs", "GET", opt_outs, su, self.list_opt_outs,
                "A tenant's suppression list, newest first (pseudonyms only)", "admin",
                query=OptOutParams, response=OptOutList,
            ),
            Endpoint(
                "lift_opt_out", "POST", f"{opt_outs}/lift", su, self.lift,
                "Lift a person's opt-out on a channel (recorded as opted_in)", "admin",
                body=LiftBody, response=Lifted, errors=(404,),
            ),
            Endpoint(
                "get_tenant_settings", "GET", settings, su, self.get_settings,
                "A tenant's consent keywords and window fallback template", "admin",
                response=TenantSettings,
            ),
            Endpoint(
                "set_tenant_settings", "PUT", settings, su, self.set_settings,
                "Replace a tenant's consent keywords and window fallback template", "admin",
                body=SettingsBody, response=TenantSettings,
            ),
        ]  # fmt: skip

    async def list_opt_outs(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """A page of the tenant's list."""
        params = request.query_model(OptOutParams)
        items = await self._consent.opt_outs(
            request.path_params["tenant_id"],
            channel=params.channel,
            limit=params.limit,
            offset=params.offset,
        )
        return NeutralResponse.json(OptOutList(items=tuple(items)))

    async def lift(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Take the person off the list; 404 when they were not on it."""
        caller = require_superuser(principal)
        body = request.json_body(LiftBody)
        participant = body.participant or self._pseudonym(body.channel, body.address or "")
        tenant_id = request.path_params["tenant_id"]
        if not await self._consent.lift(tenant_id, body.channel, participant, by=caller.user_id):
            raise NotFound("that person has not opted out of this tenant's messages there")
        return NeutralResponse.json(
            Lifted(channel=body.channel, participant=participant, lifted=True)
        )

    async def get_settings(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """The tenant's settings (empty: the built-in keywords, no fallback)."""
        return NeutralResponse.json(await self._settings.get(request.path_params["tenant_id"]))

    async def set_settings(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Replace the tenant's settings and answer them as stored."""
        body = request.json_body(SettingsBody)
        tenant_id = request.path_params["tenant_id"]
        # A bad language tag or tenant id is a ValidationError: 422, without the input.
        settings = TenantSettings(tenant_id=tenant_id, **body.model_dump())
        await self._settings.save(settings)
        return NeutralResponse.json(await self._settings.get(tenant_id))

    def _pseudonym(self, channel: Channel, address: str) -> str:
        return self._consent.participant(
            Address(channel=channel, value=participant_address(address))
        )
