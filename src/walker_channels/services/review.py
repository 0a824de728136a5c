"""Human review (HITL): the queue of drafts, and approve, reject and expire, each an event."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TypedDict

from walker_channels.exceptions import (
    AlreadyDecided,
    ApprovalNotFound,
    ConfigurationError,
    Conflict,
    InvalidInput,
    MessageRejected,
    OptedOut,
    OutsideServiceWindow,
    StaleApproval,
)
from walker_channels.models import (
    Approval,
    ApprovalStatus,
    ApprovedEvent,
    Channel,
    Decision,
    ExpiredEvent,
    OutboundMessage,
    RejectedEvent,
    Scope,
    WhatsAppTemplate,
)
from walker_channels.models.base import JsonObject
from walker_channels.ports import (
    ApprovalStore,
    ChannelEvents,
    Clock,
    EventStore,
    TenantSettingsStore,
)
from walker_channels.services.config import ExpiryPolicy, ServiceConfig
from walker_channels.services.escalation import reply_recipient, reply_sender
from walker_channels.services.hooks import Hooks
from walker_channels.services.keys import decision_event_key
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.proactive import fallback_template
from walker_channels.services.review_items import (
    ReviewDraft,
    ReviewItem,
    ReviewOutcome,
    is_stale,
    review_draft,
    review_item,
)
from walker_channels.services.sending import SendContext, SendPurpose, SendReceipt
from walker_channels.services.unsettled import UnsettledSend
from walker_channels.telemetry import Telemetry, default_telemetry, traced_step
from walker_channels.timing import service_window_open

log = logging.getLogger(__name__)

EXPIRY_REVIEWER = "system:expiry"
"""``decided_by`` of drafts that expired."""


class ReviewService:
    """The review queue and its decisions. Decisions are claimed atomically by the store."""

    def __init__(
        self,
        *,
        config: ServiceConfig,
        approvals: ApprovalStore,
        events: EventStore,
        sender: OutboundSender,
        clock: Clock,
        hooks: ChannelEvents | None = None,
        telemetry: Telemetry | None = None,
        tenant_settings: TenantSettingsStore | None = None,
    ) -> None:
        """With ``tenant_settings``, an approval after the service window closed sends the
        tenant's fallback template (if it has one) instead of failing."""
        if config.expiry_policy is ExpiryPolicy.RENOTIFY and hooks is None:
            raise ConfigurationError(
                "the renotify expiry policy needs event hooks (a ChannelEvents): pass hooks="
            )
        self._config = config
        self._approvals = approvals
        self._events = events
        self._sender = sender
        self._clock = clock
        self._hooks = Hooks(hooks)
        self._telemetry = telemetry or default_telemetry()
        self._tenant_settings = tenant_settings

    async def queue(
        self, scope: Scope, *, limit: int = 50, offset: int = 0
    ) -> tuple[ReviewItem, ...]:
        """Pending drafts visible in ``scope``, oldest first, anonymised, with SLA and staleness."""
        pending = await self._approvals.list_pending(scope, limit=limit, offset=offset)
        now = self._clock.now()
        last: dict[tuple[str, Channel, str], datetime | None] = {}
        for approval in pending:
            who = (approval.tenant_id, approval.channel, approval.participant)
            if who not in last:
                last[who] = await self._events.last_inbound_at(*who)
        return tuple(
            review_item(
                approval,
                last[(approval.tenant_id, approval.channel, approval.participant)],
                now=now,
                config=self._config,
            )
            for approval in pending
        )

    async def draft(self, approval_id: str, *, scope: Scope) -> ReviewDraft:
        """One pending draft in full (redacted), for a reviewer to read before deciding.

        Raises :class:`ApprovalNotFound` outside ``scope`` and :class:`AlreadyDecided` once
        it was decided.
        """
        approval = await self._pending(approval_id, scope)
        last_inbound = await self._last_inbound(approval)
        return review_draft(approval, last_inbound, now=self._now(), config=self._config)

    @traced_step("review", decision="approve", outcome=lambda outcome: outcome.status)
    async def approve(
        self,
        approval_id: str,
        *,
        scope: Scope,
        reviewer: str,
        text: str | None = None,
        override_stale: bool = False,
    ) -> ReviewOutcome:
        """Send the draft (or ``text``, the reviewer's edit) and record the approval.

        Raises :class:`ApprovalNotFound` outside ``scope``, :class:`StaleApproval` when the
        person wrote again since the draft (unless ``override_stale``),
        :class:`OutsideServiceWindow` when WhatsApp no longer allows free text (and the
        tenant has no fallback template), :class:`OptedOut` when the person opted out, and
        :class:`AlreadyDecided` when another decision came first.
        """
        approval = await self._pending(approval_id, scope)
        final = _final_text(approval, text)
        last_inbound = await self._last_inbound(approval)
        if not override_stale and is_stale(approval, last_inbound):
            raise StaleApproval(
                "the person wrote again after this draft was made; read the conversation, "
                "then approve with override_stale to send it anyway, or reject it"
            )
        await self._require_consent(approval)
        template = await self._outside_window(approval, last_inbound, final)
        decided = await self._decide(approval, ApprovalStatus.APPROVED, reviewer, final)
        edited = text is not None and text != approval.proposed_text
        approved = ApprovedEvent(
            **_decision_fields(decided, ApprovalStatus.APPROVED, self._now()),
            decided_by=reviewer,
            edited=edited,
        )
        if await self._events.append(approved):
            await self._hooks.draft_decided(decided)
        receipt = await self._send(decided, final, SendPurpose.APPROVED, template=template)
        await self.forget_recipient(decided)
        return ReviewOutcome(approval_id=decided.id, status=decided.status, receipt=receipt)

    @traced_step("review", decision="reject", outcome=lambda outcome: outcome.status)
    async def reject(
        self,
        approval_id: str,
        *,
        scope: Scope,
        reviewer: str,
        fallback_text: str | None = None,
    ) -> ReviewOutcome:
        """Reject the draft and record it; send ``fallback_text`` to the person when given."""
        approval = await self._pending(approval_id, scope)
        if fallback_text is not None:
            if not fallback_text.strip():
                raise InvalidInput("the fallback text is empty: leave it out to send nothing")
            await self._require_consent(approval)
            self._require_window(approval, await self._last_inbound(approval))
        decided = await self._decide(approval, ApprovalStatus.REJECTED, reviewer, None)
        rejected = RejectedEvent(
            **_decision_fields(decided, ApprovalStatus.REJECTED, self._now()),
            decided_by=reviewer,
        )
        if await self._events.append(rejected):
            await self._hooks.draft_decided(decided)
        receipt = None
        if fallback_text is not None:
            receipt = await self._send(decided, fallback_text, SendPurpose.FALLBACK)
        await self.forget_recipient(decided)
        return ReviewOutcome(approval_id=decided.id, status=decided.status, receipt=receipt)

    async def resend(self, approval_id: str, *, scope: Scope) -> ReviewOutcome:
        """Send an approved draft again whose send failed or whose outcome stayed unknown.

        An unknown send is looked up first: if the provider has it, nothing is sent again.
        Raises :class:`ApprovalNotFound` outside ``scope`` and
        :class:`~walker_channels.exceptions.Conflict` unless the draft was approved and its
        send did not go out.
        """
        approval = await self._approvals.get(approval_id)
        if approval is None or not _visible(scope, approval.tenant_id):
            raise ApprovalNotFound("no approval with that id is visible to you")
        if approval.status is not ApprovalStatus.APPROVED:
            raise Conflict(f"the approval is {approval.status.value}: only approved ones resend")
        key = SendPurpose.APPROVED.key(approval.id)
        message, context = None, None
        if approval.recipient is not None and approval.final_text:
            message, context = self._message(approval, approval.final_text, SendPurpose.APPROVED)
        receipt = await self._sender.resend(key, message=message, context=context)
        return ReviewOutcome(approval_id=approval.id, status=approval.status, receipt=receipt)

    async def failed_sends(self, scope: Scope, *, limit: int = 50) -> tuple[UnsettledSend, ...]:
        """Approved drafts whose send failed or stayed unknown ("approved, send failed")."""
        return await self._sender.unsettled(scope, purpose=SendPurpose.APPROVED, limit=limit)

    async def expire_due(self, *, limit: int = 100) -> tuple[ReviewOutcome, ...]:
        """Apply the expiry policy to up to ``limit`` drafts past their deadline, oldest first.

        Call it as often as you like (a cron job, a worker loop). Under the renotify policy the
        drafts stay pending and the reviewers are reminded on every call.
        """
        due = await self._approvals.list_expired(self._clock.now(), limit=limit)
        outcomes = [await self._expire(approval) for approval in due]
        return tuple(outcome for outcome in outcomes if outcome is not None)

    async def forget_recipient(self, approval: Approval) -> bool:
        """Clear the decided ``approval``'s raw address once its decision's send was made.

        A send that did not go out needs no copy here: the outbound ledger keeps the message
        (with its address) until it is sent, for the sweeper's retries and for a resend, and
        drops it then. So the address is held in one place only. ``True`` if cleared.
        """
        return await self._approvals.clear_recipient(approval.id)

    @traced_step(
        "review",
        lambda self, approval: {
            "approval_id": approval.id,
            "tenant_id": approval.tenant_id,
            "channel": approval.channel,
            "decision": "expire",
        },
        outcome=lambda outcome: outcome.status if outcome else "already_decided",
    )
    async def _expire(self, approval: Approval) -> ReviewOutcome | None:
        policy = self._config.expiry_policy
        data: JsonObject = {"policy": policy.value}
        if policy is ExpiryPolicy.RENOTIFY:
            await self._append_expired(approval, data)
            await self._hooks.draft_overdue(approval)
            return ReviewOutcome(approval_id=approval.id, status=approval.status)
        try:
            decided = await self._decide(approval, ApprovalStatus.EXPIRED, EXPIRY_REVIEWER, None)
        except AlreadyDecided:
            return None  # a reviewer decided between the listing and now
        receipt = None
        if policy is ExpiryPolicy.FALLBACK:
            receipt = await self._expiry_fallback(decided, data)
        if await self._append_expired(decided, data):
            await self._hooks.draft_decided(decided)
        await self.forget_recipient(decided)
        return ReviewOutcome(approval_id=decided.id, status=decided.status, receipt=receipt)

    async def _expiry_fallback(self, approval: Approval, data: JsonObject) -> SendReceipt | None:
        text = self._config.expiry_fallback_text
        if not text or not self._window_open(approval, await self._last_inbound(approval)):
            data["fallback"] = "skipped: the channel's service window is closed"
            return None
        try:
            return await self._send(approval, text, SendPurpose.EXPIRY_FALLBACK, hitl=False)
        except MessageRejected:
            data["fallback"] = "rejected by the transport"
            return None
        except OptedOut:
            data["fallback"] = "skipped: the person opted out"
            return None

    async def _append_expired(self, approval: Approval, data: JsonObject) -> bool:
        fields = _decision_fields(approval, ApprovalStatus.EXPIRED, self._now())
        return await self._events.append(ExpiredEvent(**fields, data=data))

    async def _pending(self, approval_id: str, scope: Scope) -> Approval:
        self._telemetry.note(approval_id=approval_id)
        approval = await self._approvals.get(approval_id)
        if approval is None or not _visible(scope, approval.tenant_id):
            raise ApprovalNotFound("no approval with that id is visible to you")
        self._telemetry.note(tenant_id=approval.tenant_id, channel=approval.channel)
        if approval.status is not ApprovalStatus.PENDING:
            raise AlreadyDecided(f"the approval is {approval.status.value} already")
        return approval

    async def _decide(
        self, approval: Approval, status: ApprovalStatus, reviewer: str, final_text: str | None
    ) -> Approval:
        decision = Decision(
            status=status, decided_by=reviewer, decided_at=self._now(), final_text=final_text
        )
        return await self._approvals.decide(approval.id, decision)

    async def _send(
        self,
        approval: Approval,
        text: str,
        purpose: SendPurpose,
        *,
        hitl: bool = True,
        template: WhatsAppTemplate | None = None,
    ) -> SendReceipt:
        message, context = self._message(approval, text, purpose, hitl=hitl, template=template)
        receipt = await self._sender.send(message, context)
        return receipt.model_copy(update={"fallback_template": True}) if template else receipt

    def _message(
        self,
        approval: Approval,
        text: str,
        purpose: SendPurpose,
        *,
        hitl: bool = True,
        template: WhatsAppTemplate | None = None,
    ) -> tuple[OutboundMessage, SendContext]:
        """The send of ``text``, or of ``template`` (the window fallback) in its place."""
        message = OutboundMessage(
            channel=approval.channel,
            to=reply_recipient(approval),
            sender=reply_sender(approval),
            text=None if template else text,
            template=template,
        )
        from_agent = purpose.from_agent
        context = SendContext(
            purpose=purpose,
            cause=approval.id,
            tenant_id=approval.tenant_id,
            agent_id=approval.agent_type if from_agent else None,
            confidence=approval.confidence if from_agent else None,
            hitl=hitl,
            session_id=approval.session_id,
            data={"fallback_template": True} if template else {},
        )
        return message, context

    async def _last_inbound(self, approval: Approval) -> datetime | None:
        return await self._events.last_inbound_at(
            approval.tenant_id, approval.channel, approval.participant
        )

    def _window_open(self, approval: Approval, last_inbound: datetime | None) -> bool:
        window = self._sender.service_window(approval.channel)
        return window is None or service_window_open(last_inbound, self._now(), window)

    async def _require_consent(self, approval: Approval) -> None:
        # Before the decision: an approval that cannot be sent must stay pending.
        channel, participant = approval.channel, approval.participant
        await self._sender.require_consent(approval.tenant_id, channel, participant)

    async def _outside_window(
        self, approval: Approval, last_inbound: datetime | None, text: str
    ) -> WhatsAppTemplate | None:
        """``None`` within the window; outside it the tenant's fallback template, filled in
        for ``text``, or :class:`OutsideServiceWindow` when it has none."""
        if self._window_open(approval, last_inbound):
            return None
        settings, tenant_id = self._tenant_settings, approval.tenant_id
        template = await fallback_template(settings, tenant_id, text, last_inbound)
        if template is None:
            self._require_window(approval, last_inbound)
        return template

    def _require_window(self, approval: Approval, last_inbound: datetime | None) -> None:
        if not self._window_open(approval, last_inbound):
            raise OutsideServiceWindow(
                f"the {approval.channel.value} service window closed since the person last wrote "
                "(WhatsApp: 24 hours), so only an approved template goes out now: reject this "
                "draft and send a template instead"
            )

    def _now(self) -> datetime:
        return self._clock.now()


def _visible(scope: Scope, tenant_id: str) -> bool:
    return scope.tenant_ids is None or tenant_id in scope.tenant_ids


def _final_text(approval: Approval, text: str | None) -> str:
    if text is None:
        if not approval.proposed_text.strip():
            raise InvalidInput("this draft has no text (the agent failed): approve it with text")
        return approval.proposed_text
    if not text.strip():
        raise InvalidInput("the edited text is empty: give the text to send")
    return text


class _DecisionFields(TypedDict):
    tenant_id: str
    channel: Channel
    participant: str
    occurred_at: datetime
    idempotency_key: str
    session_id: str | None
    approval_id: str


def _decision_fields(approval: Approval, status: ApprovalStatus, at: datetime) -> _DecisionFields:
    return {
        "tenant_id": approval.tenant_id,
        "channel": approval.channel,
        "participant": approval.participant,
        "occurred_at": at,
        "idempotency_key": decision_event_key(status.value, approval.id),
        "session_id": approval.session_id,
        "approval_id": approval.id,
    }
