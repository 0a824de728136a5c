"""Admin endpoints (superusers only): conversation log, statistics, agents, human review.

Every answer is anonymised by the read models it comes from: people appear as keyed
pseudonyms and messages as short redacted previews.
"""

from __future__ import annotations

from walker_channels.models import (
    ConversationStats,
    LogEntry,
    LogQuery,
    Page,
    Principal,
    StatsQuery,
)
from walker_channels.ports import Clock, MonitoringReader
from walker_channels.services import ReviewOutcome, ReviewService
from walker_channels.web.auth import Access, admin_scope, require_superuser
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse
from walker_channels.web.schemas import (
    DEFAULT_STATS_RANGE,
    AgentAnalyticsList,
    ApproveRequest,
    LogParams,
    QueueParams,
    RejectRequest,
    ReviewQueue,
    StatsParams,
)

ADMIN = "/api/v1/admin"


class AdminEndpoints:
    """Monitoring reads and review decisions, for superusers."""

    def __init__(
        self, *, monitoring: MonitoringReader, review: ReviewService, clock: Clock
    ) -> None:
        self._monitoring = monitoring
        self._review = review
        self._clock = clock

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        su = Access.SUPERUSER
        return [
            Endpoint(
                "conversation_log", "GET", f"{ADMIN}/conversations/whatsapp", su, self.logs,
                "Conversation log of a channel (?channel=, default WhatsApp), anonymised", "admin",
                query=LogParams, response=Page[LogEntry],
            ),
            Endpoint(
                "conversation_stats", "GET", f"{ADMIN}/conversations/stats", su, self.stats,
                "Conversation statistics", "admin", query=StatsParams, response=ConversationStats,
            ),
            Endpoint(
                "agent_analytics", "GET", f"{ADMIN}/analytics/walker-agents", su, self.agents,
                "Per-agent analytics", "admin", query=StatsParams, response=AgentAnalyticsList,
            ),
            Endpoint(
                "review_queue", "GET", f"{ADMIN}/hitl/review-queue", su, self.queue,
                "Drafts waiting for review, oldest first", "review",
                query=QueueParams, response=ReviewQueue,
            ),
            Endpoint(
                "approve_draft", "POST", f"{ADMIN}/hitl/{{approval_id}}/approve", su, self.approve,
                "Approve a draft (optionally edited) and send it", "review",
                body=ApproveRequest, body_required=False, response=ReviewOutcome,
                errors=(404, 409),
            ),
            Endpoint(
                "reject_draft", "POST", f"{ADMIN}/hitl/{{approval_id}}/reject", su, self.reject,
                "Reject a draft (optionally sending a fallback)", "review",
                body=RejectRequest, body_required=False, response=ReviewOutcome,
                errors=(404, 409),
            ),
        ]  # fmt: skip

    async def logs(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """A page of one channel's conversation log (WhatsApp unless ``channel`` says)."""
        params = request.query_model(LogParams)
        query = LogQuery(
            scope=admin_scope(params.tenant_id),
            start=params.start,
            end=params.end,
            channel=params.channel,
            direction=params.direction,
            limit=params.limit,
            cursor=params.cursor,
        )
        return NeutralResponse.json(await self._monitoring.logs(query))

    async def stats(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Aggregates over the conversation log."""
        query = self._stats_query(request.query_model(StatsParams))
        return NeutralResponse.json(await self._monitoring.stats(query))

    async def agents(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """How each agent performs."""
        query = self._stats_query(request.query_model(StatsParams))
        agents = await self._monitoring.agent_analytics(query)
        return NeutralResponse.json(AgentAnalyticsList(agents=tuple(agents)))

    def _stats_query(self, params: StatsParams) -> StatsQuery:
        # A default range: aggregates over the whole history read every event (see
        # docs/performance.md), which a dashboard opened without filters should not wait for.
        start = params.start or (params.end or self._clock.now()) - DEFAULT_STATS_RANGE
        return StatsQuery(
            scope=admin_scope(params.tenant_id),
            start=start,
            end=params.end,
            channel=params.channel,
        )

    async def queue(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Pending drafts with age, SLA status, risk and staleness."""
        params = request.query_model(QueueParams)
        scope = admin_scope(params.tenant_id)
        items = await self._review.queue(scope, limit=params.limit, offset=params.offset)
        failed = await self._review.failed_sends(scope) if params.offset == 0 else ()
        return NeutralResponse.json(ReviewQueue(items=items, send_failed=failed))

    async def approve(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Claim the draft and send it; a second decision gets 409."""
        reviewer = require_superuser(principal)
        body = request.json_body(ApproveRequest, optional=True)
        outcome = await self._review.approve(
            request.path_params["approval_id"],
            scope=admin_scope(None),
            reviewer=reviewer.user_id,
            text=body.text,
            override_stale=body.override_stale,
        )
        return NeutralResponse.json(outcome)

    async def reject(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Reject the draft, sending the fallback text if one is given."""
        reviewer = require_superuser(principal)
        body = request.json_body(RejectRequest, optional=True)
        outcome = await self._review.reject(
            request.path_params["approval_id"],
            scope=admin_scope(None),
            reviewer=reviewer.user_id,
            fallback_text=body.fallback_text,
        )
        return NeutralResponse.json(outcome)
