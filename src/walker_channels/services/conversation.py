"""The inbound conversation flow: accept a message, run the agent, reply or escalate."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from walker_channels.exceptions import MessageRejected
from walker_channels.models import (
    AgentReply,
    AgentRequest,
    ApprovalStatus,
    Channel,
    EscalationReason,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    QueuedInbound,
)
from walker_channels.ports import (
    AgentRunner,
    ApprovalStore,
    Clock,
    EventStore,
    InboundQueue,
    TenantResolver,
)
from walker_channels.routing import Route, escalation_for_failure, route_reply
from walker_channels.services.agent_call import ask_agent
from walker_channels.services.config import ServiceConfig
from walker_channels.services.escalation import Escalator
from walker_channels.services.keys import inbound_key
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.outcomes import (
    REPLY_OUTCOMES,
    AcceptOutcome,
    Handled,
    ProcessOutcome,
)
from walker_channels.services.sending import SendContext, SendPurpose
from walker_channels.sessions import session_id_for

log = logging.getLogger(__name__)


class ConversationService:
    """The inbound flow of DESIGN.md: accept quickly, then answer (inline or in the background).

    :meth:`accept` is what a webhook does before answering the provider; :meth:`process` runs
    the agent and replies or escalates; :meth:`process_pending` finishes messages whose worker
    died. Every send is keyed by the inbound message, so no path ever replies twice.
    """

    def __init__(
        self,
        *,
        config: ServiceConfig,
        tenants: TenantResolver,
        events: EventStore,
        queue: InboundQueue,
        agent: AgentRunner,
        approvals: ApprovalStore,
        sender: OutboundSender,
        clock: Clock,
    ) -> None:
        self._config = config
        self._tenants = tenants
        self._events = events
        self._queue = queue
        self._agent = agent
        self._sender = sender
        self._clock = clock
        self._escalator = Escalator(
            approvals=approvals, events=events, sender=sender, clock=clock, config=config
        )

    async def handle(self, message: InboundMessage) -> Handled:
        """Accept ``message`` and, if it is new, process it at once."""
        accepted = await self.accept(message)
        if accepted is not AcceptOutcome.ACCEPTED:
            return Handled(accepted=accepted)
        processed = await self.process(message.provider_message_id)
        return Handled(accepted=accepted, processed=processed)

    async def accept(self, message: InboundMessage) -> AcceptOutcome:
        """Record ``message`` once (by its provider id) and queue it for the agent."""
        participant = self._config.pseudonym(message.sender.value)
        tenant_id = await self._tenants.resolve(message.recipient)
        if tenant_id is None:
            return await self._accept_unknown(message, participant)
        item = QueuedInbound(
            id=message.provider_message_id,
            message=message,
            tenant_id=tenant_id,
            session_id=await self._session_for(tenant_id, message.channel, participant),
            enqueued_at=self._clock.now(),
        )
        # Queue first, record second: a crash in between leaves an entry that recovery finds
        # (and process() records the inbound event then); the other order could lose it.
        await self._queue.enqueue(item)
        if not await self._events.append(self._inbound_event(item, participant)):
            return AcceptOutcome.DUPLICATE
        return AcceptOutcome.ACCEPTED

    async def process(self, item_id: str) -> ProcessOutcome:
        """Claim the queued message ``item_id`` and answer it (or see that it was answered)."""
        claimed = await self._queue.claim(
            now=self._clock.now(), lease=self._config.processing_lease, item_id=item_id
        )
        if not claimed:
            return ProcessOutcome.NOT_CLAIMED
        return await self._work(claimed[0])

    async def process_pending(self, limit: int = 10) -> Sequence[ProcessOutcome]:
        """Finish up to ``limit`` queued messages nobody holds (never started, or worker died).

        Entries that fail stay queued for the next sweep; their errors are raised together
        as an :class:`ExceptionGroup` after the others are done.
        """
        claimed = await self._queue.claim(
            now=self._clock.now(), lease=self._config.processing_lease, limit=limit
        )
        results = await asyncio.gather(*(self._work(i) for i in claimed), return_exceptions=True)
        outcomes: list[ProcessOutcome] = []
        errors: list[Exception] = []
        for result in results:
            if isinstance(result, ProcessOutcome):
                outcomes.append(result)
            elif isinstance(result, Exception):
                errors.append(result)
            else:
                raise result
        if errors:
            raise ExceptionGroup("some queued messages could not be processed", errors)
        return outcomes

    async def _work(self, item: QueuedInbound) -> ProcessOutcome:
        participant = self._config.pseudonym(item.message.sender.value)
        # A no-op normally; records the message when a crash came between queueing and recording.
        await self._events.append(self._inbound_event(item, participant))
        outcome = await self._resume(item)
        if outcome is None:
            outcome = await self._answer(item)
        await self._queue.complete(item.id)
        return outcome

    async def _resume(self, item: QueuedInbound) -> ProcessOutcome | None:
        approval = await self._escalator.existing(item)
        if approval is not None:
            if approval.status is ApprovalStatus.PENDING:
                await self._escalator.finish(approval)
            return ProcessOutcome.ALREADY_HANDLED
        if await self._sender.record(SendPurpose.REPLY.key(item.id)) is not None:
            return ProcessOutcome.ALREADY_HANDLED
        return None

    async def _answer(self, item: QueuedInbound) -> ProcessOutcome:
        if item.attempts > self._config.max_attempts:
            # Runs of this message keep dying: stop retrying the agent, let a human answer.
            log.warning("message %s failed %d times; escalating", item.id, item.attempts - 1)
            return await self._escalate(item, EscalationReason.AGENT_ERROR, None, None)
        limit = self._config.agent_timeout
        turn = await ask_agent(
            self._agent, self._request(item), time_limit=limit, clock=self._clock
        )
        if turn.reply is None:
            reason = turn.failure or EscalationReason.AGENT_ERROR
            return await self._escalate(item, reason, None, turn.response_time_ms)
        route = route_reply(
            self._config.routing,
            turn.reply.confidence,
            tenant_id=item.tenant_id,
            agent_id=turn.reply.agent_id,
        )
        if not route.send:
            return await self._escalate(item, route, turn.reply, turn.response_time_ms)
        return await self._reply(item, turn.reply, turn.response_time_ms)

    async def _reply(
        self, item: QueuedInbound, reply: AgentReply, response_time_ms: float
    ) -> ProcessOutcome:
        message = item.message
        outbound = OutboundMessage(
            channel=message.channel, to=message.sender, sender=message.recipient, text=reply.text
        )
        try:
            receipt = await self._sender.send(
                outbound,
                SendContext(
                    purpose=SendPurpose.REPLY,
                    cause=item.id,
                    tenant_id=item.tenant_id,
                    agent_id=reply.agent_id,
                    confidence=reply.confidence,
                    response_time_ms=response_time_ms,
                    session_id=item.session_id,
                ),
            )
        except MessageRejected:
            # The channel cannot carry this reply (too long, say): a reviewer can edit it.
            reason = EscalationReason.INVALID_REPLY
            return await self._escalate(item, reason, reply, response_time_ms)
        return REPLY_OUTCOMES[receipt.state]

    async def _escalate(
        self,
        item: QueuedInbound,
        why: Route | EscalationReason,
        reply: AgentReply | None,
        response_time_ms: float | None,
    ) -> ProcessOutcome:
        route = why if isinstance(why, Route) else escalation_for_failure(why)
        await self._escalator.escalate(item, route, reply, response_time_ms)
        return ProcessOutcome.ESCALATED

    async def _accept_unknown(self, message: InboundMessage, participant: str) -> AcceptOutcome:
        event = InboundEvent(
            tenant_id=None,
            channel=message.channel,
            participant=participant,
            occurred_at=message.received_at,
            idempotency_key=inbound_key(message.provider_message_id),
            provider_message_id=message.provider_message_id,
            text=message.text,
            media_count=len(message.media),
        )
        if not await self._events.append(event):
            return AcceptOutcome.DUPLICATE
        log.info("message %s was sent to a number no tenant owns", message.provider_message_id)
        notice = self._config.unknown_tenant_notice
        if notice:
            await self._send_notice(message, notice)
        return AcceptOutcome.UNKNOWN_TENANT

    async def _send_notice(self, message: InboundMessage, notice: str) -> None:
        outbound = OutboundMessage(
            channel=message.channel, to=message.sender, sender=message.recipient, text=notice
        )
        context = SendContext(
            purpose=SendPurpose.NOTICE, cause=message.provider_message_id, tenant_id=None
        )
        try:
            await self._sender.send(outbound, context)
        except MessageRejected:
            # Recorded as outbound-failed by the sender; the webhook still answers normally.
            return

    async def _session_for(self, tenant_id: str, channel: Channel, participant: str) -> str:
        last = await self._events.last_session(tenant_id, channel, participant)
        return session_id_for(
            tenant_id,
            channel,
            participant,
            last=last,
            now=self._clock.now(),
            timeout=self._config.session_timeout,
        )

    def _request(self, item: QueuedInbound) -> AgentRequest:
        message = item.message
        return AgentRequest(
            tenant_id=item.tenant_id,
            session_id=item.session_id,
            channel=message.channel,
            participant=message.sender,
            text=message.text,
            media=message.media,
            message_id=message.provider_message_id,
            agent_id=self._config.agent_for(item.tenant_id),
            **message.structured_parts(),
        )

    def _inbound_event(self, item: QueuedInbound, participant: str) -> InboundEvent:
        message = item.message
        return InboundEvent(
            tenant_id=item.tenant_id,
            channel=message.channel,
            participant=participant,
            occurred_at=message.received_at,
            idempotency_key=inbound_key(item.id),
            session_id=item.session_id,
            provider_message_id=item.id,
            text=message.text,
            media_count=len(message.media),
        )
