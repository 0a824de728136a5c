"""Admin endpoints for sends that did not settle (superusers only): list them, resend one.

A send stays ``unknown`` only when the provider's records could not settle it, and ``failed``
when it did not go out; both are listed here with pseudonyms, never addresses or text. A
resend is explicit: an unknown send is looked up once more first, and a send the provider has
is settled as sent instead of being sent twice.
"""

from __future__ import annotations

from pydantic import Field

from walker_channels.models import Principal
from walker_channels.models.base import Frozen
from walker_channels.services import OutboundSender, ReviewOutcome, ReviewService, SendReceipt
from walker_channels.web.admin_endpoints import ADMIN
from walker_channels.web.auth import Access, admin_scope, require_superuser
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse
from walker_channels.web.schemas import UnsettledSends


class UnsettledParams(Frozen):
    """Which unsettled sends to list."""

    tenant_id: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class OutboundEndpoints:
    """Unsettled sends and the resend actions."""

    def __init__(self, *, sender: OutboundSender, review: ReviewService) -> None:
        self._sender = sender
        self._review = review

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        su = Access.SUPERUSER
        return [
            Endpoint(
                "unsettled_sends", "GET", f"{ADMIN}/outbound/unsettled", su, self.unsettled,
                "Sends that did not settle as sent, oldest first (anonymised)", "admin",
                query=UnsettledParams, response=UnsettledSends,
            ),
            Endpoint(
                "resend", "POST", f"{ADMIN}/outbound/{{key}}/resend", su, self.resend,
                "Send a failed or unknown send again (an unknown one is looked up first)",
                "admin", response=SendReceipt, errors=(404, 409),
            ),
            Endpoint(
                "resend_approved", "POST", f"{ADMIN}/hitl/{{approval_id}}/resend", su,
                self.resend_approved, "Send an approved draft again whose send failed", "review",
                response=ReviewOutcome, errors=(404, 409),
            ),
        ]  # fmt: skip

    async def unsettled(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Unknown and failed sends, in the caller's tenant filter."""
        params = request.query_model(UnsettledParams)
        items = await self._sender.unsettled(
            admin_scope(params.tenant_id), limit=params.limit, offset=params.offset
        )
        return NeutralResponse.json(UnsettledSends(items=items))

    async def resend(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Resend one send by its key; 409 when it went out or is under way."""
        require_superuser(principal)
        receipt = await self._sender.resend(request.path_params["key"])
        return NeutralResponse.json(receipt)

    async def resend_approved(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Resend an approved draft whose send failed or stayed unknown."""
        require_superuser(principal)
        outcome = await self._review.resend(
            request.path_params["approval_id"], scope=admin_scope(None)
        )
        return NeutralResponse.json(outcome)
