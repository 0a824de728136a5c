"""Dead letters: messages the agent could not answer, listed for an operator to retry.

The record is the escalation itself: a message whose runs failed ``max_attempts`` times (or
whose agent call failed or timed out) is escalated as today, into a pending approval with the
failure as its reason and no draft. :meth:`DeadLetters.list` is those approvals, with
pseudonyms only. :meth:`DeadLetters.retry` runs the agent once more on the message's text
(from the conversation log): a reply that routing would send goes out as the operator's
approval of the dead letter; one under the threshold, or a new failure, leaves it waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from walker_channels.exceptions import ApprovalNotFound, Conflict
from walker_channels.models import (
    AgentRequest,
    Approval,
    Channel,
    EscalationReason,
    InboundEvent,
    Scope,
)
from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.models.ids import conversation_id_for
from walker_channels.ports import AgentRunner, ApprovalStore, Clock, ConversationStore
from walker_channels.routing import route_reply
from walker_channels.services.agent_call import ask_agent
from walker_channels.services.config import ServiceConfig
from walker_channels.services.review import ReviewService
from walker_channels.services.review_items import ReviewOutcome

FAILURE_REASONS = frozenset({EscalationReason.AGENT_ERROR, EscalationReason.AGENT_TIMEOUT})
"""The escalation reasons that mean the agent gave no answer."""
PAGE = 200
TRANSCRIPT_LIMIT = 200


class DeadLetter(Frozen):
    """A message the agent could not answer (no raw address, no text)."""

    message_id: str
    approval_id: str
    tenant_id: str
    channel: Channel
    participant: str
    """The person's keyed pseudonym."""
    reason: EscalationReason
    """The last failure: ``agent_error`` (also after ``max_attempts`` failed runs) or
    ``agent_timeout``."""
    failed_at: AwareDatetime


class RetryResult(StrEnum):
    """What a retry did."""

    SENT = "sent"
    """The agent answered and the reply went out (the dead letter is approved)."""
    NEEDS_REVIEW = "needs_review"
    """The agent answered, but routing would not send it; the dead letter still waits."""
    FAILED = "failed"
    """The agent failed again; the dead letter still waits."""


class RetryOutcome(Frozen):
    """The answer to a retry."""

    message_id: str
    result: RetryResult
    reason: EscalationReason | None = None
    """Why it was not sent (the new failure, or routing's reason)."""
    review: ReviewOutcome | None = None
    """The approval and its send receipt, when it was sent."""


class DeadLetters:
    """List the messages the agent could not answer, and retry one."""

    def __init__(
        self,
        *,
        approvals: ApprovalStore,
        conversations: ConversationStore,
        agent: AgentRunner,
        review: ReviewService,
        config: ServiceConfig,
        clock: Clock,
    ) -> None:
        self._approvals = approvals
        self._conversations = conversations
        self._agent = agent
        self._review = review
        self._config = config
        self._clock = clock

    async def list(self, scope: Scope, *, limit: int = 50) -> tuple[DeadLetter, ...]:
        """Up to ``limit`` dead letters in ``scope``, oldest first."""
        found = [_dead_letter(a) for a in await self._failed(scope, limit=limit)]
        return tuple(found)

    async def retry(self, message_id: str, *, scope: Scope, operator: str) -> RetryOutcome:
        """Run the agent once more on ``message_id``; send the reply if routing would.

        Raises :class:`ApprovalNotFound` when no dead letter has that id in ``scope``, and
        :class:`Conflict` when the message's text is no longer kept (retention, erasure).
        """
        approval = await self._find(message_id, scope)
        turn = await ask_agent(
            self._agent,
            await self._request(approval),
            time_limit=self._config.agent_timeout,
            clock=self._clock,
        )
        if turn.reply is None:
            failure = turn.failure or EscalationReason.AGENT_ERROR
            return RetryOutcome(message_id=message_id, result=RetryResult.FAILED, reason=failure)
        route = route_reply(
            self._config.routing,
            turn.reply.confidence,
            tenant_id=approval.tenant_id,
            agent_id=turn.reply.agent_id,
        )
        if not route.send:
            result = RetryResult.NEEDS_REVIEW
            return RetryOutcome(message_id=message_id, result=result, reason=route.reason)
        review = await self._review.approve(
            approval.id, scope=scope, reviewer=operator, text=turn.reply.text
        )
        return RetryOutcome(message_id=message_id, result=RetryResult.SENT, review=review)

    async def _failed(self, scope: Scope, *, limit: int) -> Sequence[Approval]:
        found: list[Approval] = []
        offset = 0
        while len(found) < limit:
            page = await self._approvals.list_pending(scope, limit=PAGE, offset=offset)
            found += [a for a in page if _is_dead_letter(a)]
            if len(page) < PAGE:
                break
            offset += PAGE
        return found[:limit]

    async def _find(self, message_id: str, scope: Scope) -> Approval:
        for approval in await self._failed(scope, limit=10_000):
            if approval.inbound_message_id == message_id:
                return approval
        raise ApprovalNotFound("no dead letter has this message id")

    async def _request(self, approval: Approval) -> AgentRequest:
        text = await self._text(approval)
        if approval.recipient is None or text is None:
            raise Conflict(
                "the message is no longer kept (retention or erasure); answer the person from "
                "the review queue instead"
            )
        return AgentRequest(
            tenant_id=approval.tenant_id,
            session_id=approval.session_id or approval.id,
            channel=approval.channel,
            participant=approval.recipient,
            text=text,
            message_id=approval.inbound_message_id,
            agent_id=self._config.agent_for(approval.tenant_id),
        )

    async def _text(self, approval: Approval) -> str | None:
        key = conversation_id_for(approval.tenant_id, approval.channel.value, approval.participant)
        conversation = await self._conversations.get(key)
        if conversation is None:
            return None
        events = await self._conversations.transcript(conversation, limit=TRANSCRIPT_LIMIT)
        for event in events:
            if (
                isinstance(event, InboundEvent)
                and event.provider_message_id == approval.inbound_message_id
                and event.text
            ):
                return event.text
        return None


def _is_dead_letter(approval: Approval) -> bool:
    return approval.reason in FAILURE_REASONS and not approval.proposed_text


def _dead_letter(approval: Approval) -> DeadLetter:
    return DeadLetter(
        message_id=approval.inbound_message_id or approval.id,
        approval_id=approval.id,
        tenant_id=approval.tenant_id,
        channel=approval.channel,
        participant=approval.participant,
        reason=approval.reason,
        failed_at=approval.created_at,
    )
