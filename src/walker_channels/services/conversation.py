"""The inbound conversation flow: accept a message, run the agent, reply or escalate."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from walker_channels.exceptions import MessageRejected
from walker_channels.failures import failure_report
from walker_channels.models import (
    AgentReply,
    AgentRequest,
    ApprovalStatus,
    Claim,
    Conversation,
    ConversationMode,
    EscalationReason,
    HeldReply,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    OutboundRecord,
    OutboundState,
    QueuedInbound,
    Turn,
)
from walker_channels.ports import (
    AcceptStore,
    AgentRunner,
    ApprovalStore,
    ChannelEvents,
    Clock,
    ConversationStore,
    EventStore,
    InboundQueue,
    SentimentScorer,
    TenantResolver,
    TurnStore,
)
from walker_channels.routing import Route, escalation_for_failure, route_reply
from walker_channels.services.agent_call import ask_agent
from walker_channels.services.bursts import merged_turn
from walker_channels.services.config import ServiceConfig
from walker_channels.services.consent import ConsentService
from walker_channels.services.escalation import Escalator
from walker_channels.services.handoff import HandoffService
from walker_channels.services.hooks import Hooks
from walker_channels.services.intake import MessageArrival, StoreAccept
from walker_channels.services.keys import inbound_key, reply_part_cause
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.outcomes import (
    REPLY_OUTCOMES,
    AcceptOutcome,
    AcceptResult,
    Handled,
    ProcessOutcome,
)
from walker_channels.services.proactive import ProactiveSender
from walker_channels.services.sending import SendContext, SendPurpose
from walker_channels.services.sentiment import SENTIMENT_HANDOFF_BY, SentimentGuard
from walker_channels.services.turns import Completion, StoreTurns, TurnKeys
from walker_channels.telemetry import Telemetry, default_telemetry, route_label, traced_step
from walker_channels.texts import split_text

log = logging.getLogger(__name__)

HANDOFF_FLAG = "handoff"
"""The key of ``AgentReply.metadata`` by which an agent asks for a human (``true``)."""


class ConversationService:
    """The inbound flow of DESIGN.md: accept quickly, then answer (inline or in the background).

    :meth:`accept` is what a webhook does before answering the provider; :meth:`process` runs
    the agent and replies or escalates; :meth:`process_pending` finishes messages whose worker
    died. Every send is keyed by the inbound message, so no path ever replies twice. The
    messages of one conversation are answered one at a time, in order: the queue lets only a
    conversation's oldest message be claimed, and whoever finishes one answers the next.
    While a human has the conversation (:class:`HandoffService`), its messages are recorded
    and the agent is not run.
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
        conversations: ConversationStore,
        handoff: HandoffService | None = None,
        hooks: ChannelEvents | None = None,
        telemetry: Telemetry | None = None,
        sentiment: SentimentScorer | None = None,
        accepts: AcceptStore | None = None,
        turns: TurnStore | None = None,
        consent: ConsentService | None = None,
    ) -> None:
        """``handoff`` defaults to one over the same stores, sender and hooks; ``sentiment``
        scores each message on :meth:`accept` (none: no scores, no sentiment routing);
        ``accepts`` writes an accepted message's records and ``turns`` claims a message with
        the records answering it reads (default: one store after another; the SQL stores'
        one transaction each is ``SqlStores.accepts`` and ``SqlStores.turns``); with
        ``consent``, STOP-style keywords opt people out and their messages skip the agent."""
        self._config = config
        self._accepts = accepts or StoreAccept(
            tenants=tenants, conversations=conversations, events=events, queue=queue
        )
        self._turns = turns or StoreTurns(
            queue=queue,
            events=events,
            approvals=approvals,
            conversations=conversations,
            send_record=sender.record,
        )
        self._keys = TurnKeys(config)
        self._handoff = handoff or HandoffService(
            config=config,
            conversations=conversations,
            events=events,
            proactive=ProactiveSender(config=config, events=events, sender=sender, clock=clock),
            clock=clock,
            hooks=hooks,
        )
        self._hooks = Hooks(hooks)
        self._telemetry = telemetry or default_telemetry()
        self._consent = consent
        self._sentiment = SentimentGuard(
            sentiment, threshold=config.sentiment_threshold, action=config.sentiment_action
        )
        self._tenants = tenants
        self._events = events
        self._queue = queue
        self._agent = agent
        self._sender = sender
        self._clock = clock
        self._escalator = Escalator(
            approvals=approvals,
            events=events,
            sender=sender,
            clock=clock,
            config=config,
            hooks=self._hooks,
        )

    async def handle(self, message: InboundMessage) -> Handled:
        """Accept ``message`` and, if it is new, process it at once."""
        accepted = (await self.accept(message)).outcome
        if accepted is not AcceptOutcome.ACCEPTED:
            return Handled(accepted=accepted)
        processed = await self.process(message.provider_message_id)
        return Handled(accepted=accepted, processed=processed)

    @traced_step(
        "accept",
        lambda self, message: {
            "channel": message.channel,
            "message_id": message.provider_message_id,
        },
        outcome=lambda result: result.outcome,
    )
    async def accept(self, message: InboundMessage) -> AcceptResult:
        """Record ``message`` once (by its provider id) and queue it for the agent.

        The result carries the queue entry's id and conversation key for a dispatcher.
        """
        # Scored here, before anything is stored: the score rides on the queued message.
        message = self._sentiment.scored(message)
        participant = self._config.pseudonym(message.sender.value)
        arrival = MessageArrival(
            message, participant, self._clock.now(), self._config.session_timeout
        )
        # Tenant, conversation and session, queue entry and inbound event: one store call
        # (one transaction on SQL); a message already queued or recorded writes nothing.
        admission = await self._accepts.accept(message.recipient, arrival)
        tenant_id = admission.tenant_id
        self._telemetry.note(tenant_id=tenant_id)
        if tenant_id is None:
            unknown = await self._accept_unknown(message, participant)
            return AcceptResult(outcome=unknown, message_id=message.provider_message_id)
        if admission.arrival is None:
            return AcceptResult(
                outcome=AcceptOutcome.DUPLICATE,
                message_id=message.provider_message_id,
                conversation=arrival.conversation_id(tenant_id),
            )
        item, event = admission.arrival.item, admission.arrival.event
        await self._hooks.message_received(event)
        return AcceptResult(
            outcome=AcceptOutcome.ACCEPTED, message_id=item.id, conversation=item.conversation
        )

    async def process(self, item_id: str) -> ProcessOutcome:
        """Claim the queued message ``item_id`` and answer it (or see that it was answered).

        Then answer the messages of its conversation that arrived meanwhile, one at a time.
        ``NOT_CLAIMED`` when another worker holds it, or an earlier message of the same
        conversation is still being answered (whoever answers that one answers this next).
        """
        claimed = await self._turns.claim(self._claim(item_id=item_id), self._keys)
        if not claimed:
            return ProcessOutcome.NOT_CLAIMED
        completion = self._completion(claimed[0], then_next=True)
        outcome = await self._work(claimed[0], completion)
        await self._continue(await completion.finish())
        return outcome

    async def process_pending(self, limit: int = 10) -> Sequence[ProcessOutcome]:
        """Finish up to ``limit`` queued messages nobody holds (never started, or worker died).

        At most one message per conversation is taken (its oldest), so the batch runs
        concurrently without breaking any conversation's order. Entries that fail stay queued
        for the next sweep; their errors are raised together as an :class:`ExceptionGroup`
        after the others are done.
        """
        claimed = await self._turns.claim(self._claim(limit=limit), self._keys)
        results = await asyncio.gather(
            *(self._work_and_complete(turn) for turn in claimed), return_exceptions=True
        )
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

    def _claim(
        self, *, limit: int = 1, item_id: str | None = None, conversation: str | None = None
    ) -> Claim:
        lease = self._config.processing_lease
        return Claim(self._clock.now(), lease, limit, item_id, conversation)

    def _completion(self, turn: Turn, *, then_next: bool) -> Completion:
        """How the answered entry is removed; with ``then_next``, its conversation's next one
        is claimed in the same step."""
        conversation = turn.item.conversation
        then = (lambda: self._claim(conversation=conversation)) if then_next else lambda: None
        return Completion(self._turns, turn.item.id, self._keys, then)

    async def _work_and_complete(self, turn: Turn) -> ProcessOutcome:
        completion = self._completion(turn, then_next=False)
        outcome = await self._work(turn, completion)
        await completion.finish()
        return outcome

    async def _continue(self, claimed: Sequence[Turn]) -> None:
        # Failures are left to the sweeper: the entry stays queued under its lease.
        while claimed:
            try:
                completion = self._completion(claimed[0], then_next=True)
                await self._work(claimed[0], completion)
                claimed = await completion.finish()
            except Exception as exc:
                log.error(
                    "processing message %s failed; it stays queued: %s",
                    claimed[0].item.id,
                    failure_report(exc),
                )
                return

    @traced_step(
        "process",
        lambda self, claimed, completion: {
            "tenant_id": claimed.item.tenant_id,
            "channel": claimed.item.message.channel,
            "message_id": claimed.item.id,
        },
    )
    async def _work(self, claimed: Turn, completion: Completion) -> ProcessOutcome:
        """Answer the claimed entry (the caller finishes ``completion``, unless the reply's
        settlement did)."""
        item = claimed.item
        async with self._lease_kept(item.id):
            if claimed.recorded is not None:
                # A crash came between queueing and recording: the claim recorded it.
                await self._hooks.message_received(claimed.recorded)
            turn = item
            joined: Sequence[QueuedInbound] = ()
            if self._config.coalesce_bursts:
                joined = await self._queue.gather(item.id)
                for entry in joined:
                    await self._record_inbound(entry)
                turn = merged_turn(item, joined)
            outcome = await self._resume(turn, claimed, completion)
            if outcome is None and self._consent is not None:
                messages = [item.message, *(entry.message for entry in joined)]
                outcome = await self._consent.on_messages(
                    item.tenant_id, messages, session_id=item.session_id, known=claimed.consent
                )
            if outcome is None:
                outcome = await self._for_human(turn, claimed.conversation)
            if outcome is None:
                outcome = await self._answer(turn, completion)
        return outcome

    @contextlib.asynccontextmanager
    async def _lease_kept(self, item_id: str) -> AsyncIterator[None]:
        """Renew ``item_id``'s lease while the block runs, so a slow agent is not taken for dead."""
        renewer = asyncio.create_task(self._renew(item_id))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _renew(self, item_id: str) -> None:
        lease = self._config.processing_lease
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await self._queue.renew(item_id, now=self._clock.now(), lease=lease)
            except Exception as exc:
                # The next renewal may succeed; if none does, recovery takes the message over.
                log.warning("renewing the lease of %s failed: %s", item_id, type(exc).__name__)

    async def _resume(
        self, item: QueuedInbound, claimed: Turn, completion: Completion
    ) -> ProcessOutcome | None:
        """What an earlier run of the message left, as the claim read it: an approval, a
        reply being sent in parts, or a reply reserved (left pending: unknown now)."""
        if (approval := claimed.approval) is not None:
            if approval.status is ApprovalStatus.PENDING:
                await self._escalator.finish(approval)
            return ProcessOutcome.ALREADY_HANDLED
        if item.reply is not None:
            # A reply in parts was being sent: send what is left of the same reply.
            return await self._send_reply(item, item.reply, completion, resuming=True)
        if (sent := claimed.reply_send) is not None:
            if sent.state is OutboundState.PENDING:
                await self._previous_send(sent.key)
            return ProcessOutcome.ALREADY_HANDLED
        return None

    async def _previous_send(self, key: str) -> OutboundRecord | None:
        """The send an earlier run reserved under ``key``, if any (left pending: unknown now)."""
        return await self._sender.recover(key)

    async def _answer(self, item: QueuedInbound, completion: Completion) -> ProcessOutcome:
        if item.attempts > self._config.max_attempts:
            # Runs of this message keep dying: stop retrying the agent, let a human answer.
            log.warning(
                "message %s failed %d times; escalating",
                item.id,
                item.attempts - 1,
                extra=self._telemetry.log_extra(),
            )
            return await self._escalate(item, EscalationReason.AGENT_ERROR, None, None)
        limit = self._config.agent_timeout
        turn = await self._telemetry.traced(
            "agent",
            ask_agent(self._agent, self._request(item), time_limit=limit, clock=self._clock),
            outcome=lambda turn: turn.outcome,
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
        route = self._sentiment.route(route, item.message)
        self._telemetry.note(route=route_label(route), agent_id=turn.reply.agent_id)
        if turn.reply.metadata.get(HANDOFF_FLAG) is True:
            return await self._agent_handoff(
                item, turn.reply, turn.response_time_ms, route, completion
            )
        if not route.send:
            return await self._escalate(item, route, turn.reply, turn.response_time_ms)
        held = HeldReply(reply=turn.reply, response_time_ms=turn.response_time_ms)
        parts = self._parts(item, held.reply.text)
        if parts is None:
            # Too long for the channel and no place to cut it: a reviewer can shorten it.
            reason = EscalationReason.INVALID_REPLY
            return await self._escalate(item, reason, held.reply, held.response_time_ms)
        if len(parts) > 1:
            # Kept with the message, so a crash between parts resumes this reply, not a new one.
            await self._queue.hold_reply(item.id, held)
        return await self._send_reply(item, held, completion)

    def _parts(self, item: QueuedInbound, text: str) -> list[str] | None:
        limit = self._sender.text_limit(item.message.channel)
        if limit is None:
            return [text]
        parts = split_text(text, limit)
        if parts is None or len(parts) > self._config.max_reply_parts:
            return None
        return parts

    async def _send_reply(
        self,
        item: QueuedInbound,
        held: HeldReply,
        completion: Completion,
        *,
        resuming: bool = False,
    ) -> ProcessOutcome:
        """Send the reply's parts in order, each under its own key; stop at a failed one.

        The last part, if it goes out, settles with the entry's completion (nothing is left
        to do once it is sent)."""
        parts = self._parts(item, held.reply.text) or [held.reply.text]
        message = item.message
        outcome = ProcessOutcome.REPLIED
        for number, text in enumerate(parts, start=1):
            context = SendContext(
                purpose=SendPurpose.REPLY,
                cause=reply_part_cause(item.id, number),
                tenant_id=item.tenant_id,
                agent_id=held.reply.agent_id,
                confidence=held.reply.confidence,
                response_time_ms=held.response_time_ms,
                session_id=item.session_id,
                data={"part": number, "parts": len(parts)} if len(parts) > 1 else {},
            )
            if resuming:
                await self._previous_send(context.key)
            outbound = OutboundMessage(
                channel=message.channel, to=message.sender, sender=message.recipient, text=text
            )
            last = number == len(parts)
            try:
                receipt = await self._sender.send(
                    outbound, context, settle_sent=completion.settle_sent() if last else None
                )
            except MessageRejected:
                if number == 1:
                    # The channel cannot carry this reply at all: a reviewer can edit it.
                    reason = EscalationReason.INVALID_REPLY
                    return await self._escalate(item, reason, held.reply, held.response_time_ms)
                log.warning("part %d of the reply to %s was refused", number, item.id)
                return ProcessOutcome.REPLY_FAILED
            if receipt.state is OutboundState.UNKNOWN:
                # Probably delivered: the remaining parts still go, but the outcome says so.
                outcome = ProcessOutcome.REPLY_UNCONFIRMED
            elif receipt.state is not OutboundState.SENT:
                return REPLY_OUTCOMES[receipt.state]
        return outcome

    async def _escalate(
        self,
        item: QueuedInbound,
        why: Route | EscalationReason,
        reply: AgentReply | None,
        response_time_ms: float | None,
    ) -> ProcessOutcome:
        route = why if isinstance(why, Route) else escalation_for_failure(why)
        self._telemetry.note(reason=route.reason)
        await self._escalator.escalate(item, route, reply, response_time_ms)
        if route.reason in self._config.handoff_reasons:
            agent = reply.agent_id if reply else None
            await self._handoff.start(
                item.conversation, by="agent", reason=route.reason.value, agent_id=agent
            )
        return ProcessOutcome.ESCALATED

    async def _for_human(
        self, item: QueuedInbound, conversation: Conversation | None
    ) -> ProcessOutcome | None:
        """``HUMAN`` while a human has the conversation (as the claim read it); ``HANDED_OFF``
        if the person asks, or is upset and the sentiment action is ``handoff``."""
        if conversation is None:
            return None  # queued before conversations were recorded: the agent answers
        if conversation.mode is ConversationMode.HUMAN:
            return ProcessOutcome.HUMAN
        if self._config.asks_for_human(item.message.text):
            await self._handoff.start(item.conversation, by="person", reason="keyword")
            return ProcessOutcome.HANDED_OFF
        if self._sentiment.hands_off(item.message):
            await self._handoff.start(
                item.conversation,
                by=SENTIMENT_HANDOFF_BY,
                reason=EscalationReason.NEGATIVE_SENTIMENT.value,
            )
            return ProcessOutcome.HANDED_OFF
        return None

    async def _agent_handoff(
        self,
        item: QueuedInbound,
        reply: AgentReply,
        response_time_ms: float,
        route: Route,
        completion: Completion,
    ) -> ProcessOutcome:
        """The agent asked for a human: hand over, and send its words if they may go out."""
        await self._handoff.start(
            item.conversation, by="agent", reason="agent_request", agent_id=reply.agent_id
        )
        parts = self._parts(item, reply.text) if route.send and reply.text.strip() else None
        if not parts:
            return ProcessOutcome.HANDED_OFF
        held = HeldReply(reply=reply, response_time_ms=response_time_ms)
        if len(parts) > 1:
            await self._queue.hold_reply(item.id, held)
        return await self._send_reply(item, held, completion)

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
            sentiment=message.sentiment,
        )
        if not await self._events.append(event):
            return AcceptOutcome.DUPLICATE
        await self._hooks.message_received(event)
        # The receiving number is the business's own, not a person's: it names what to map.
        log.warning(
            "message %s was sent to %s, an address no tenant owns: map it to a tenant",
            message.provider_message_id,
            message.recipient.value,
        )
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

    async def _record_inbound(self, item: QueuedInbound) -> None:
        event = self._keys.inbound_event(item)
        if await self._events.append(event):
            await self._hooks.message_received(event)
