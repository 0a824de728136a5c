"""The review queue in the browser: the queue, one draft with its conversation, and decisions.

Decisions go through the same :class:`~walker_channels.services.ReviewService` calls as the
JSON API (``POST /api/v1/admin/hitl/{id}/approve`` and ``/reject``), as superusers: the same
scope, the same stale and service-window checks, the same one-winner claim.
"""

from __future__ import annotations

from pydantic import Field

from walker_channels.exceptions import (
    AlreadyDecided,
    ApprovalNotFound,
    InvalidInput,
    MessageRejected,
    StaleApproval,
)
from walker_channels.models import Direction, LogEntry, LogQuery, OutboundState, Scope
from walker_channels.ports import MonitoringReader
from walker_channels.services import ReviewDraft, ReviewOutcome, ReviewService
from walker_channels.web.auth import admin_scope
from walker_channels.web.console.site import NavLink, PageRequest, Site
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.errors import status_for
from walker_channels.web.requests import NeutralResponse
from walker_channels.web.schemas import QueueParams

TRANSCRIPT_LENGTH = 20
"""How many of the conversation's latest events a draft page shows."""
MESSAGE_PREVIEW = 1000
"""How much of each message the draft page shows (redacted, like every admin read)."""
NOTICES = {
    "approved": "Approved: the reply was sent.",
    "edited": "Approved with your edit: the reply was sent.",
    "rejected": "Rejected: nothing was sent.",
    "fallback_sent": "Rejected: your fallback text was sent.",
    "send_failed": "Decided, but the send failed: it is listed below and can be sent again.",
}
"""The messages a decision's redirect may show (by key: the URL carries no free text)."""
_RETRY_ON_PAGE = (StaleApproval, InvalidInput, MessageRejected)
"""Errors a reviewer can act on from the draft page itself."""


class QueuePageParams(QueueParams):
    """The review queue API's parameters, and the notice a decision's redirect names."""

    notice: str | None = Field(default=None, max_length=40)


class ReviewPages:
    """``/review``: the queue, a draft, and approve, edit-and-approve, reject."""

    nav = NavLink("Review queue", "/review")

    def __init__(self, review: ReviewService, monitoring: MonitoringReader) -> None:
        self._review = review
        self._monitoring = monitoring

    def pages(self, site: Site) -> list[Endpoint]:
        """The pages of this module (superusers only, as the review API)."""
        draft = "/review/{approval_id}"
        return [
            site.page("review_queue", "GET", "/review", self.queue),
            site.page("review_draft", "GET", draft, self.draft),
            site.page("review_approve", "POST", f"{draft}/approve", self.approve),
            site.page("review_edit", "POST", f"{draft}/edit", self.edit),
            site.page("review_reject", "POST", f"{draft}/reject", self.reject),
        ]

    async def queue(self, page: PageRequest) -> NeutralResponse:
        """Pending drafts, oldest first, and approved drafts whose send did not go out."""
        params = page.request.query_model(QueuePageParams)
        scope = admin_scope(params.tenant_id)
        items = await self._review.queue(scope, limit=params.limit, offset=params.offset)
        failed = await self._review.failed_sends(scope) if params.offset == 0 else ()
        more = len(items) == params.limit
        return page.site.render(
            page,
            "queue.html",
            items=items,
            failed=failed,
            notice=NOTICES.get(params.notice or ""),
            params=params,
            next_offset=params.offset + params.limit if more else None,
        )

    async def draft(self, page: PageRequest) -> NeutralResponse:
        """One draft: the person's message, the proposed reply, the conversation, the forms."""
        return await self._draft_page(page)

    async def approve(self, page: PageRequest) -> NeutralResponse:
        """Approve the draft as the agent wrote it."""
        return await self._decide(page, edited=False)

    async def edit(self, page: PageRequest) -> NeutralResponse:
        """Approve the draft with the reviewer's text."""
        return await self._decide(page, edited=True)

    async def reject(self, page: PageRequest) -> NeutralResponse:
        """Reject the draft, sending the fallback text when one is given."""
        fallback = page.form.get("fallback_text", "").strip() or None
        try:
            outcome = await self._review.reject(
                _approval_id(page),
                scope=admin_scope(None),
                reviewer=page.user.user_id,
                fallback_text=fallback,
            )
        except _RETRY_ON_PAGE as exc:
            return await self._draft_page(page, error=exc, fallback=fallback or "")
        notice = "rejected" if fallback is None else _sent_or_failed(outcome, "fallback_sent")
        return page.site.redirect(f"/review?notice={notice}")

    async def _decide(self, page: PageRequest, *, edited: bool) -> NeutralResponse:
        text = page.form.get("text", "") if edited else None
        try:
            outcome = await self._review.approve(
                _approval_id(page),
                scope=admin_scope(None),
                reviewer=page.user.user_id,
                text=text,
                override_stale=page.form.get("override_stale") == "yes",
            )
        except _RETRY_ON_PAGE as exc:
            return await self._draft_page(page, error=exc, text=text)
        notice = _sent_or_failed(outcome, "edited" if edited else "approved")
        return page.site.redirect(f"/review?notice={notice}")

    async def _draft_page(
        self,
        page: PageRequest,
        *,
        error: Exception | None = None,
        text: str | None = None,
        fallback: str = "",
    ) -> NeutralResponse:
        try:
            draft = await self._review.draft(_approval_id(page), scope=admin_scope(None))
        except (ApprovalNotFound, AlreadyDecided) as exc:
            return page.site.error_page(page, exc)
        transcript = await self._transcript(draft)
        return page.site.render(
            page,
            "draft.html",
            status=200 if error is None else status_for(error),
            draft=draft,
            transcript=transcript,
            message=_their_message(draft, transcript),
            error=None if error is None else str(error),
            stale_error=isinstance(error, StaleApproval),
            text=draft.text if text is None else text,
            fallback=fallback,
        )

    async def _transcript(self, draft: ReviewDraft) -> list[LogEntry]:
        query = LogQuery(
            scope=Scope(tenant_ids=frozenset({draft.tenant_id})),
            channel=draft.channel,
            participant=draft.participant,
            limit=TRANSCRIPT_LENGTH,
            preview_length=MESSAGE_PREVIEW,
        )
        page = await self._monitoring.logs(query)
        return list(reversed(page.items))


def _approval_id(page: PageRequest) -> str:
    return page.request.path_params["approval_id"]


def _their_message(draft: ReviewDraft, transcript: list[LogEntry]) -> LogEntry | None:
    """The person's message the draft answers: their last one before it was made."""
    before = [
        entry
        for entry in transcript
        if entry.direction is Direction.INBOUND and entry.occurred_at <= draft.created_at
    ]
    return before[-1] if before else None


def _sent_or_failed(outcome: ReviewOutcome, sent: str) -> str:
    receipt = outcome.receipt
    return sent if receipt is None or receipt.state is OutboundState.SENT else "send_failed"
