"""Handoff: a human takes a conversation over from the agent, answers it, and hands it back.

The mode switch is the store's compare-and-set (:meth:`ConversationStore.switch`), so of two
reviewers taking one conversation over at once exactly one wins; the other gets
:class:`~walker_channels.exceptions.Conflict`. Each switch records a ``handoff_started`` or
``handoff_ended`` event and then tells the host's hooks. A human's reply goes through the one
sender (:class:`ProactiveSender`, so WhatsApp's 24-hour rule applies) as a
:attr:`SendPurpose.HUMAN` send and is recorded as a ``human_reply`` event.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from walker_channels.exceptions import Conflict, NotFound
from walker_channels.models import (
    Address,
    Channel,
    Conversation,
    ConversationMode,
    ConversationQuery,
    HandoffEndedEvent,
    HandoffStartedEvent,
    HumanReplyEvent,
    Media,
    Scope,
    WhatsAppTemplate,
)
from walker_channels.ports import ChannelEvents, Clock, ConversationStore, EventStore
from walker_channels.services.config import ServiceConfig
from walker_channels.services.hooks import Hooks
from walker_channels.services.keys import handoff_event_key, human_reply_event_key
from walker_channels.services.proactive import ProactiveSender
from walker_channels.services.sending import SendPurpose, SendReceipt
from walker_channels.services.transcripts import ConversationDetail, transcript_entry

IDLE_RELEASER = "system:idle"
"""``by`` of a handoff that ended because nobody wrote for the idle timeout."""


class HandoffService:
    """Takeover, human reply and release of conversations, for tenant members and superusers.

    Every method takes the caller's :class:`Scope`: a conversation outside it is
    :class:`NotFound`, the same answer as one that does not exist.
    """

    def __init__(
        self,
        *,
        config: ServiceConfig,
        conversations: ConversationStore,
        events: EventStore,
        proactive: ProactiveSender,
        clock: Clock,
        hooks: ChannelEvents | None = None,
    ) -> None:
        self._config = config
        self._conversations = conversations
        self._events = events
        self._proactive = proactive
        self._clock = clock
        self._hooks = Hooks(hooks)

    async def find(self, query: ConversationQuery) -> tuple[Conversation, ...]:
        """Conversations in ``query``'s scope, most recently active first."""
        return tuple(await self._conversations.find(query))

    async def detail(
        self, conversation_id: str, *, scope: Scope, limit: int = 200
    ) -> ConversationDetail:
        """The conversation and its latest ``limit`` events, with full message text."""
        conversation = await self._visible(conversation_id, scope)
        events = await self._conversations.transcript(conversation, limit=limit)
        return ConversationDetail(
            conversation=conversation.view(),
            transcript=tuple(transcript_entry(event) for event in events),
        )

    async def takeover(self, conversation_id: str, *, scope: Scope, by: str) -> Conversation:
        """Put the conversation in human mode, taken by ``by``; :class:`Conflict` if it is."""
        await self._visible(conversation_id, scope)
        started = await self.start(conversation_id, by=by, reason="takeover")
        if started is None:
            raise Conflict("someone has taken this conversation over already")
        return started

    async def release(self, conversation_id: str, *, scope: Scope, by: str) -> Conversation:
        """Hand the conversation back to the agent; :class:`Conflict` unless in human mode."""
        await self._visible(conversation_id, scope)
        released = await self._end(conversation_id, by=by)
        if released is None:
            raise Conflict("this conversation is answered by the agent already")
        return released

    async def reply(
        self,
        conversation_id: str,
        *,
        scope: Scope,
        by: str,
        idempotency_key: str,
        text: str | None = None,
        media: tuple[Media, ...] = (),
        template: WhatsAppTemplate | None = None,
    ) -> SendReceipt:
        """Send a human's reply as the tenant and record it; a repeated key sends nothing.

        Raises :class:`Conflict` unless the conversation is in human mode (take it over
        first), and what :meth:`ProactiveSender.send` raises (WhatsApp's 24-hour rule).
        """
        conversation = await self._visible(conversation_id, scope)
        if conversation.mode is not ConversationMode.HUMAN:
            raise Conflict("take this conversation over before replying in it")
        if conversation.address is None:
            raise Conflict("this person's address was erased: nothing can be sent")
        receipt = await self._proactive.send(
            tenant_id=conversation.tenant_id,
            to=conversation.address,
            idempotency_key=idempotency_key,
            text=text,
            media=media,
            template=template,
            sender=_reply_from(conversation),
            purpose=SendPurpose.HUMAN,
            session_id=conversation.session_id,
        )
        now = self._clock.now()
        await self._events.append(
            HumanReplyEvent(
                **_fields(conversation, now),
                idempotency_key=human_reply_event_key(receipt.key),
                agent_id=self._agent_of(conversation.tenant_id),
                by=by,
                send_key=receipt.key,
                state=receipt.state.value,
            )
        )
        await self._conversations.touch(conversation.id, at=now)
        return receipt

    async def start(
        self, conversation_id: str, *, by: str, reason: str, agent_id: str | None = None
    ) -> Conversation | None:
        """Switch to human mode, record ``handoff_started`` and tell the hooks.

        ``None`` when the conversation is in human mode already (or unknown).
        """
        now = self._clock.now()
        started = await self._conversations.switch(
            conversation_id, to=ConversationMode.HUMAN, by=by, at=now
        )
        if started is None:
            return None
        event = HandoffStartedEvent(
            **_fields(started, now),
            idempotency_key=handoff_event_key("started", started.id, now),
            agent_id=agent_id or self._agent_of(started.tenant_id),
            by=by,
            reason=reason,
        )
        if await self._events.append(event):
            await self._hooks.handoff_started(event)
        return started

    async def release_idle(self, *, limit: int = 100) -> int:
        """Hand back up to ``limit`` conversations idle for the timeout; how many went back."""
        timeout = self._config.handoff_idle_timeout
        if timeout is None:
            return 0
        cutoff = self._clock.now() - timeout
        released = 0
        for conversation in await self._conversations.idle(cutoff, limit=limit):
            if await self._end(conversation.id, by=IDLE_RELEASER, idle_before=cutoff):
                released += 1
        return released

    async def _end(
        self, conversation_id: str, *, by: str, idle_before: datetime | None = None
    ) -> Conversation | None:
        now = self._clock.now()
        ended = await self._conversations.switch(
            conversation_id, to=ConversationMode.AGENT, by=by, at=now, idle_before=idle_before
        )
        if ended is None:
            return None
        event = HandoffEndedEvent(
            **_fields(ended, now),
            idempotency_key=handoff_event_key("ended", ended.id, now),
            agent_id=self._agent_of(ended.tenant_id),
            by=by,
        )
        if await self._events.append(event):
            await self._hooks.handoff_ended(event)
        return ended

    async def _visible(self, conversation_id: str, scope: Scope) -> Conversation:
        conversation = await self._conversations.get(conversation_id)
        if conversation is None or not _in_scope(scope, conversation.tenant_id):
            raise NotFound("no conversation with that id is visible to you")
        return conversation

    def _agent_of(self, tenant_id: str) -> str:
        return self._config.agent_for(tenant_id) or self._config.default_agent_type


def _in_scope(scope: Scope, tenant_id: str) -> bool:
    return scope.tenant_ids is None or tenant_id in scope.tenant_ids


def _reply_from(conversation: Conversation) -> Address | None:
    value = conversation.reply_from
    return None if value is None else Address(channel=conversation.channel, value=value)


class _Fields(TypedDict):
    tenant_id: str
    channel: Channel
    participant: str
    occurred_at: datetime
    session_id: str | None
    conversation_id: str


def _fields(conversation: Conversation, at: datetime) -> _Fields:
    return {
        "tenant_id": conversation.tenant_id,
        "channel": conversation.channel,
        "participant": conversation.participant,
        "occurred_at": at,
        "session_id": conversation.session_id,
        "conversation_id": conversation.id,
    }
