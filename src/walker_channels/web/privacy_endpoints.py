"""The erasure endpoint (superusers only): delete one person's data in one tenant, on request."""

from __future__ import annotations

from pydantic import Field

from walker_channels.models import ErasureRecord, Principal
from walker_channels.models.base import Frozen
from walker_channels.services import PrivacyService
from walker_channels.web.auth import Access, require_superuser
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse

ERASURE_PATH = "/api/v1/admin/erasure"


class ErasureBody(Frozen):
    """Whose data to erase: a number (E.164) or email address, and the tenant it wrote to."""

    participant: str = Field(min_length=1, max_length=320, repr=False, examples=["+14155552671"])
    """The person's number in E.164 (``whatsapp:`` prefix accepted) or email address."""
    tenant_id: str = Field(min_length=1, max_length=64)


class PrivacyEndpoints:
    """``POST /api/v1/admin/erasure``: erase a person's data and answer the erasure's record."""

    def __init__(self, privacy: PrivacyService) -> None:
        self._privacy = privacy

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        return [
            Endpoint(
                "erase_participant",
                "POST",
                ERASURE_PATH,
                Access.SUPERUSER,
                self.erase,
                "Erase everything stored about one person in one tenant (recorded by pseudonym)",
                "admin",
                body=ErasureBody,
                response=ErasureRecord,
            )
        ]

    async def erase(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Delete the person's events, drafts, sends, queued messages and sessions."""
        caller = require_superuser(principal)
        body = request.json_body(ErasureBody)
        record = await self._privacy.erase(
            body.participant, tenant_id=body.tenant_id, requested_by=caller.user_id
        )
        return NeutralResponse.json(record)
