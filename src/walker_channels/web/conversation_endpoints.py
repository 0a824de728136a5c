"""Conversation endpoints: list by mode, read a transcript, take over, reply, hand back.

Tenant members act for their own tenants, superusers for all. A conversation of another
tenant is answered 404, exactly like one that does not exist. Answers carry the person's
pseudonym, never an address; the transcript carries full message text (the tenant's own
reviewers read it to answer).
"""

from __future__ import annotations

from pydantic import Field

from walker_channels.models import (
    Channel,
    ConversationMode,
    ConversationQuery,
    ConversationView,
    Principal,
    Scope,
)
from walker_channels.models.base import Frozen
from walker_channels.services import ConversationDetail, HandoffService, SendReceipt
from walker_channels.web.admin_endpoints import ADMIN
from walker_channels.web.auth import Access, require_principal, require_tenant
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse
from walker_channels.web.schemas import MessageContent

CONVERSATION = f"{ADMIN}/conversations/{{conversation_id}}"


class ConversationParams(Frozen):
    """Which conversations to list."""

    mode: ConversationMode | None = None
    """``human`` for the ones a person has taken over, ``agent`` for the rest."""
    channel: Channel | None = None
    tenant_id: str | None = Field(default=None, min_length=1, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ConversationList(Frozen):
    """Conversations, most recently active first."""

    items: tuple[ConversationView, ...]


class TranscriptParams(Frozen):
    """How much of the transcript to show."""

    limit: int = Field(default=200, ge=1, le=1000)


class HumanReplyRequest(MessageContent):
    """A human's reply: free text and/or one media URL, or an approved template."""


class HumanReplyOutcome(Frozen):
    """The conversation a reply went to, and how its send ended."""

    conversation_id: str
    receipt: SendReceipt


def caller_scope(caller: Principal, tenant_id: str | None = None) -> Scope:
    """The tenants ``caller`` may see here: one when asked for (403 if not theirs), else all
    of theirs (every tenant for a superuser)."""
    if tenant_id is not None:
        require_tenant(caller, tenant_id)
        return Scope(tenant_ids=frozenset({tenant_id}))
    return Scope(tenant_ids=None if caller.is_superuser else caller.tenant_ids)


class ConversationEndpoints:
    """The handoff endpoints, for tenant members and superusers."""

    def __init__(self, handoff: HandoffService) -> None:
        self._handoff = handoff

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        member = Access.TENANT_MEMBER
        return [
            Endpoint(
                "conversations", "GET", f"{ADMIN}/conversations", member, self.listing,
                "Conversations, most recently active first (?mode=human: taken over)", "handoff",
                query=ConversationParams, response=ConversationList,
            ),
            Endpoint(
                "conversation", "GET", CONVERSATION, member, self.detail,
                "A conversation and its transcript (full text, pseudonymous)", "handoff",
                query=TranscriptParams, response=ConversationDetail, errors=(404,),
            ),
            Endpoint(
                "takeover", "POST", f"{CONVERSATION}/takeover", member, self.takeover,
                "Take a conversation over: the agent stops answering it", "handoff",
                response=ConversationView, errors=(404, 409),
            ),
            Endpoint(
                "human_reply", "POST", f"{CONVERSATION}/reply", member, self.reply,
                "Reply as the tenant in a conversation you took over", "handoff",
                body=HumanReplyRequest, response=HumanReplyOutcome, errors=(404, 409),
            ),
            Endpoint(
                "release", "POST", f"{CONVERSATION}/release", member, self.release,
                "Hand a conversation back to the agent", "handoff",
                response=ConversationView, errors=(404, 409),
            ),
        ]  # fmt: skip

    async def listing(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Conversations the caller may see, filtered by mode and channel."""
        params = request.query_model(ConversationParams)
        query = ConversationQuery(
            scope=caller_scope(require_principal(principal), params.tenant_id),
            mode=params.mode,
            channel=params.channel,
            limit=params.limit,
            offset=params.offset,
        )
        found = await self._handoff.find(query)
        return NeutralResponse.json(ConversationList(items=tuple(c.view() for c in found)))

    async def detail(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """The conversation's record and its latest events."""
        params = request.query_model(TranscriptParams)
        detail = await self._handoff.detail(
            request.path_params["conversation_id"],
            scope=caller_scope(require_principal(principal)),
            limit=params.limit,
        )
        return NeutralResponse.json(detail)

    async def takeover(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Human mode, taken by the caller; 409 when someone else was first."""
        caller = require_principal(principal)
        taken = await self._handoff.takeover(
            request.path_params["conversation_id"], scope=caller_scope(caller), by=caller.user_id
        )
        return NeutralResponse.json(taken.view())

    async def reply(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Send the caller's reply through the one sender (ledger, window, delivery)."""
        caller = require_principal(principal)
        body = request.json_body(HumanReplyRequest)
        conversation_id = request.path_params["conversation_id"]
        receipt = await self._handoff.reply(
            conversation_id,
            scope=caller_scope(caller),
            by=caller.user_id,
            idempotency_key=body.idempotency_key,
            text=body.text,
            media=body.media(),
            template=body.template,
        )
        return NeutralResponse.json(
            HumanReplyOutcome(conversation_id=conversation_id, receipt=receipt)
        )

    async def release(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Agent mode again; 409 when the agent has it already."""
        caller = require_principal(principal)
        released = await self._handoff.release(
            request.path_params["conversation_id"], scope=caller_scope(caller), by=caller.user_id
        )
        return NeutralResponse.json(released.view())
