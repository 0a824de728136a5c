"""Conversations in the browser: the list by mode, one transcript, takeover, reply, release.

Every action goes through the same :class:`~walker_channels.services.HandoffService` calls as
the JSON API (``/api/v1/admin/conversations/...``) with the same scope: tenant members see and
act on their own tenants' conversations, superusers on all; another tenant's conversation is
404. People appear by pseudonym; message text is shown with numbers and addresses redacted.
"""

from __future__ import annotations

import uuid

from pydantic import Field

from walker_channels.exceptions import Conflict, InvalidInput
from walker_channels.models import ConversationMode, ConversationQuery, OutboundState
from walker_channels.models.base import Frozen
from walker_channels.privacy import redact
from walker_channels.services import HandoffService
from walker_channels.services.transcripts import ConversationDetail, TranscriptEntry
from walker_channels.web.console.site import Audience, NavLink, PageRequest, Site
from walker_channels.web.conversation_endpoints import ConversationParams, caller_scope
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.errors import status_for
from walker_channels.web.requests import NeutralResponse

TRANSCRIPT_LENGTH = 100
"""How many of the conversation's latest events its page shows."""
REPLY_LIMIT = 1600
"""The longest reply the form takes (the API's limit)."""
NOTICES = {
    "taken": "You took this conversation over: the agent will not answer it until you release it.",
    "sent": "Your reply was sent.",
    "send_failed": "Your reply could not be sent: see the transcript and try again.",
    "released": "Released: the agent answers this conversation again.",
}
"""The messages an action's redirect may show (by key: the URL carries no free text)."""
_RETRY_ON_PAGE = (Conflict, InvalidInput)
"""Errors a reviewer can act on from the conversation page itself."""


class ConversationListParams(ConversationParams):
    """The conversation list API's parameters, and the notice a redirect names."""

    notice: str | None = Field(default=None, max_length=40)


class ConversationPageParams(Frozen):
    """Which notice a conversation page shows."""

    notice: str | None = Field(default=None, max_length=40)


class ConversationPages:
    """``/conversations``: the list, a conversation, and takeover / reply / release."""

    nav = NavLink("Conversations", "/conversations")

    def __init__(self, handoff: HandoffService) -> None:
        self._handoff = handoff

    def pages(self, site: Site) -> list[Endpoint]:
        """The pages of this module (any signed-in caller, scoped to their tenants)."""
        one = "/conversations/{conversation_id}"
        signed_in = Audience.SIGNED_IN
        return [
            site.page("conversations", "GET", "/conversations", self.listing, audience=signed_in),
            site.page("conversation", "GET", one, self.conversation, audience=signed_in),
            site.page("takeover", "POST", f"{one}/takeover", self.takeover, audience=signed_in),
            site.page("human_reply", "POST", f"{one}/reply", self.reply, audience=signed_in),
            site.page("release", "POST", f"{one}/release", self.release, audience=signed_in),
        ]

    async def listing(self, page: PageRequest) -> NeutralResponse:
        """The caller's conversations, most recently active first, filtered by mode."""
        params = page.request.query_model(ConversationListParams)
        query = ConversationQuery(
            scope=caller_scope(page.user, params.tenant_id),
            mode=params.mode,
            channel=params.channel,
            limit=params.limit,
            offset=params.offset,
        )
        found = await self._handoff.find(query)
        more = len(found) == params.limit
        return page.site.render(
            page,
            "conversations.html",
            items=[conversation.view() for conversation in found],
            params=params,
            modes=[None, *ConversationMode],
            notice=NOTICES.get(params.notice or ""),
            next_offset=params.offset + params.limit if more else None,
        )

    async def conversation(self, page: PageRequest) -> NeutralResponse:
        """One conversation: its record, its transcript and the handoff forms."""
        notice = page.request.query_model(ConversationPageParams).notice
        return await self._page(page, notice=NOTICES.get(notice or ""))

    async def takeover(self, page: PageRequest) -> NeutralResponse:
        """Take the conversation over as the caller (409 page when someone was first)."""
        try:
            await self._handoff.takeover(
                _conversation_id(page), scope=caller_scope(page.user), by=page.user.user_id
            )
        except _RETRY_ON_PAGE as exc:
            return await self._page(page, error=exc)
        return page.site.redirect(f"/conversations/{_conversation_id(page)}?notice=taken")

    async def reply(self, page: PageRequest) -> NeutralResponse:
        """Send the caller's text as the tenant, through the one sender."""
        text = page.form.get("text", "").strip()
        key = page.form.get("idempotency_key", "").strip()
        try:
            if not text or len(text) > REPLY_LIMIT:
                raise InvalidInput(f"write a reply of 1 to {REPLY_LIMIT} characters")
            if not key or len(key) > 200:
                raise InvalidInput("the form is incomplete: reload the page and try again")
            receipt = await self._handoff.reply(
                _conversation_id(page),
                scope=caller_scope(page.user),
                by=page.user.user_id,
                idempotency_key=f"console:{key}",
                text=text,
            )
        except _RETRY_ON_PAGE as exc:
            return await self._page(page, error=exc, text=text)
        notice = "sent" if receipt.state is not OutboundState.FAILED else "send_failed"
        return page.site.redirect(f"/conversations/{_conversation_id(page)}?notice={notice}")

    async def release(self, page: PageRequest) -> NeutralResponse:
        """Hand the conversation back to the agent."""
        try:
            await self._handoff.release(
                _conversation_id(page), scope=caller_scope(page.user), by=page.user.user_id
            )
        except _RETRY_ON_PAGE as exc:
            return await self._page(page, error=exc)
        return page.site.redirect(f"/conversations/{_conversation_id(page)}?notice=released")

    async def _page(
        self,
        page: PageRequest,
        *,
        notice: str | None = None,
        error: Exception | None = None,
        text: str = "",
    ) -> NeutralResponse:
        detail = await self._handoff.detail(
            _conversation_id(page), scope=caller_scope(page.user), limit=TRANSCRIPT_LENGTH
        )
        return page.site.render(
            page,
            "conversation.html",
            status=200 if error is None else status_for(error),
            conversation=detail.conversation,
            transcript=_redacted(detail),
            human=detail.conversation.mode is ConversationMode.HUMAN,
            notice=notice,
            error=None if error is None else str(error),
            text=text,
            idempotency_key=uuid.uuid4().hex,
            reply_limit=REPLY_LIMIT,
        )


def _conversation_id(page: PageRequest) -> str:
    return page.request.path_params["conversation_id"]


def _redacted(detail: ConversationDetail) -> list[TranscriptEntry]:
    """The transcript with numbers and addresses in the text redacted (pseudonyms only)."""
    return [entry.model_copy(update={"text": redact(entry.text)}) for entry in detail.transcript]
