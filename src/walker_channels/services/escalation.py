"""Escalation: a draft goes to human review, and the person gets the holding message."""

from __future__ import annotations

from walker_channels.exceptions import Conflict, MessageRejected
from walker_channels.models import (
    Address,
    AgentReply,
    Approval,
    EscalatedEvent,
    EscalationReason,
    OutboundMessage,
    QueuedInbound,
    RiskLevel,
)
from walker_channels.ports import ApprovalStore, Clock, EventStore
from walker_channels.routing import Route
from walker_channels.services.config import ServiceConfig
from walker_channels.services.hooks import Hooks
from walker_channels.services.keys import approval_id_for, escalated_event_key
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.sending import SendContext, SendPurpose

SENDER_FIELD = "sender"
"""Key in ``Approval.action_data`` of the address the person wrote to (the reply's sender)."""


class Escalator:
    """Creates the one approval a message can cause, records it, sends the holding message.

    Every step is keyed by the message, so finishing an escalation that a crash interrupted
    repeats none of the steps that happened already.
    """

    def __init__(
        self,
        *,
        approvals: ApprovalStore,
        events: EventStore,
        sender: OutboundSender,
        clock: Clock,
        config: ServiceConfig,
        hooks: Hooks | None = None,
    ) -> None:
        self._hooks = hooks or Hooks()
        self._approvals = approvals
        self._events = events
        self._sender = sender
        self._clock = clock
        self._config = config

    async def existing(self, item: QueuedInbound) -> Approval | None:
        """The approval ``item`` caused already, if any."""
        return await self._approvals.get(approval_id_for(item.tenant_id, item.id))

    async def escalate(
        self,
        item: QueuedInbound,
        route: Route,
        reply: AgentReply | None,
        response_time_ms: float | None,
    ) -> Approval:
        """Create the approval for ``item`` (unless it exists) and finish the escalation."""
        approval = await self.existing(item)
        if approval is None:
            # The item's lease serialises work on one message, so get-then-create cannot race.
            approval = self._draft(item, route, reply)
            await self._approvals.create(approval)
        await self.finish(approval, response_time_ms)
        return approval

    async def finish(self, approval: Approval, response_time_ms: float | None = None) -> None:
        """Record the escalation event and send the holding message (each at most once)."""
        event = EscalatedEvent(
            tenant_id=approval.tenant_id,
            channel=approval.channel,
            participant=approval.participant,
            occurred_at=self._clock.now(),
            idempotency_key=escalated_event_key(approval.id),
            session_id=approval.session_id,
            agent_id=approval.agent_type,
            confidence=approval.confidence,
            response_time_ms=response_time_ms,
            approval_id=approval.id,
            reason=approval.reason,
            risk_level=approval.risk_level,
            data={"inbound_message_id": approval.inbound_message_id},
        )
        if await self._events.append(event):
            await self._hooks.draft_created(approval)
        await self._send_holding(approval)

    def _agent_type(self, tenant_id: str) -> str:
        return self._config.agent_for(tenant_id) or self._config.default_agent_type

    def _draft(self, item: QueuedInbound, route: Route, reply: AgentReply | None) -> Approval:
        now = self._clock.now()
        deadline = self._config.approval_deadline
        message = item.message
        return Approval(
            id=approval_id_for(item.tenant_id, item.id),
            tenant_id=item.tenant_id,
            channel=message.channel,
            participant=self._config.pseudonym(message.sender.value),
            recipient=message.sender,
            agent_type=reply.agent_id if reply else self._agent_type(item.tenant_id),
            action_data={SENDER_FIELD: message.recipient.value},
            proposed_text=reply.text if reply else "",
            confidence=reply.confidence if reply else None,
            # route_reply sets both whenever it escalates; a bare route stays on the safe side.
            risk_level=route.risk_level or RiskLevel.HIGH,
            reason=route.reason or EscalationReason.INVALID_REPLY,
            created_at=now,
            expires_at=now + deadline if deadline else None,
            inbound_message_id=item.id,
            session_id=item.session_id,
        )

    async def _send_holding(self, approval: Approval) -> None:
        message = OutboundMessage(
            channel=approval.channel,
            to=reply_recipient(approval),
            sender=reply_sender(approval),
            text=self._config.holding_message,
        )
        context = SendContext(
            purpose=SendPurpose.HOLDING,
            cause=approval.inbound_message_id or approval.id,
            tenant_id=approval.tenant_id,
            session_id=approval.session_id,
        )
        try:
            await self._sender.send(message, context)
        except MessageRejected:
            # Recorded as outbound-failed by the sender; the draft still waits for review.
            return


def reply_sender(approval: Approval) -> Address | None:
    """The address the person wrote to, from which replies to this approval are sent."""
    value = approval.action_data.get(SENDER_FIELD)
    return Address(channel=approval.channel, value=value) if isinstance(value, str) else None


def reply_recipient(approval: Approval) -> Address:
    """The person's address, for a send about this approval.

    Raises :class:`Conflict` once it was cleared (the approval is settled: nothing more can be
    sent for it; see :meth:`~walker_channels.ports.ApprovalStore.clear_recipient`).
    """
    if approval.recipient is None:
        raise Conflict("this draft is settled and its recipient was cleared: nothing can be sent")
    return approval.recipient
