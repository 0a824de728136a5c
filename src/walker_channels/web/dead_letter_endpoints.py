"""Dead letters (superusers only): messages the agent could not answer, and their retry.

``GET /api/v1/admin/dead-letters`` lists them with pseudonyms and the failure's reason, never
an address or text; ``POST /api/v1/admin/dead-letters/{message_id}/retry`` runs the agent once
more (see :mod:`walker_channels.services.dead_letters`).
"""

from __future__ import annotations

from pydantic import Field

from walker_channels.models import Principal
from walker_channels.models.base import Frozen
from walker_channels.services.dead_letters import DeadLetter, DeadLetters, RetryOutcome
from walker_channels.web.admin_endpoints import ADMIN
from walker_channels.web.auth import Access, admin_scope, require_superuser
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse


class DeadLetterParams(Frozen):
    """Which dead letters to list."""

    tenant_id: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


class DeadLetterList(Frozen):
    """Dead letters, oldest first."""

    items: tuple[DeadLetter, ...]


class DeadLetterEndpoints:
    """The dead-letter list and the retry action."""

    def __init__(self, dead_letters: DeadLetters) -> None:
        self._dead_letters = dead_letters

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        su = Access.SUPERUSER
        return [
            Endpoint(
                "dead_letters", "GET", f"{ADMIN}/dead-letters", su, self.list,
                "Messages the agent could not answer, oldest first (anonymised)", "admin",
                query=DeadLetterParams, response=DeadLetterList,
            ),
            Endpoint(
                "retry_dead_letter", "POST", f"{ADMIN}/dead-letters/{{message_id}}/retry", su,
                self.retry, "Run the agent once more on a dead letter; send what it answers",
                "admin", response=RetryOutcome, errors=(404, 409),
            ),
        ]  # fmt: skip

    async def list(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """The dead letters in the caller's tenant filter."""
        params = request.query_model(DeadLetterParams)
        items = await self._dead_letters.list(admin_scope(params.tenant_id), limit=params.limit)
        return NeutralResponse.json(DeadLetterList(items=items))

    async def retry(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Retry one dead letter by its message id; 404 when there is none."""
        operator = require_superuser(principal)
        outcome = await self._dead_letters.retry(
            request.path_params["message_id"], scope=admin_scope(None), operator=operator.user_id
        )
        return NeutralResponse.json(outcome)
