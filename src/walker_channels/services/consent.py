"""Consent: the suppression list in the flows. STOP-style keywords (or the provider's own
opt-out handling, or a send refused because the person unsubscribed) put a person on it;
START-style keywords and operators take them off. Each change is an ``opted_out`` or
``opted_in`` event.

While a person is on the list the agent is not run for their messages (they are still
recorded), and the sends people start (proactive, human replies, approved drafts and
fallbacks: :attr:`SendPurpose.needs_consent`) are refused with
:class:`~walker_channels.exceptions.OptedOut` before anything is reserved or sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from walker_channels.consent import consent_action, tenant_keywords
from walker_channels.exceptions import OptedOut
from walker_channels.models import (
    Address,
    Channel,
    ConsentAction,
    ConsentSource,
    ConsentState,
    InboundMessage,
    OptedInEvent,
    OptedOutEvent,
    OptOut,
)
from walker_channels.ports import Clock, ConsentStore, EventStore, TenantSettingsStore
from walker_channels.services.config import ServiceConfig
from walker_channels.services.outcomes import ProcessOutcome

log = logging.getLogger(__name__)


class ConsentService:
    """Reads consent keywords, keeps the suppression list and records each change."""

    def __init__(
        self,
        *,
        config: ServiceConfig,
        store: ConsentStore,
        settings: TenantSettingsStore,
        events: EventStore,
        clock: Clock,
    ) -> None:
        self._config = config
        self._store = store
        self._settings = settings
        self._events = events
        self._clock = clock

    async def on_messages(
        self,
        tenant_id: str,
        messages: Sequence[InboundMessage],
        *,
        session_id: str | None = None,
        known: ConsentState | None = None,
    ) -> ProcessOutcome | None:
        """Apply the consent keywords of one turn's messages, in order; what the flow does next.

        ``OPTED_OUT`` when the person is on the list afterwards, ``CONSENT_KEYWORD`` when a
        keyword lifted it or the provider answered one; ``None``: run the agent. A START-style
        word from someone not opted out ("yes") is an ordinary message for the agent.
        ``known``: the settings and list entry read with the turn's claim, so neither is read
        again unless a keyword changed the list.
        """
        settings = known.settings if known is not None else await self._settings.get(tenant_id)
        keywords = tenant_keywords(settings)
        answered = changed = False
        for message in messages:
            action = message.opt_out_type or consent_action(message.text, keywords)
            source = ConsentSource.PROVIDER if message.opt_out_type else ConsentSource.KEYWORD
            who = self.participant(message.sender)
            cause = message.provider_message_id
            changed = changed or action is not None
            if action is ConsentAction.STOP:
                await self._opt_out(tenant_id, message.channel, who, source, cause, session_id)
            elif action is ConsentAction.START:
                lifted = await self._opt_in(
                    tenant_id, message.channel, who, source, cause=cause, session_id=session_id
                )
                answered = answered or lifted
            answered = answered or message.opt_out_type is not None
        last = messages[-1]
        if known is not None and not changed:
            opted_out = known.opted_out
        else:
            who = self.participant(last.sender)
            opted_out = await self.is_opted_out(tenant_id, last.channel, who)
        if opted_out:
            return ProcessOutcome.OPTED_OUT
        return ProcessOutcome.CONSENT_KEYWORD if answered else None

    def participant(self, address: Address) -> str:
        """The pseudonym the list keeps for ``address``."""
        return self._config.pseudonym(address.value)

    async def is_opted_out(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """Whether the person is on the tenant's list for ``channel``."""
        return await self._store.is_opted_out(tenant_id, channel, participant)

    async def require(self, tenant_id: str, channel: Channel, participant: str) -> None:
        """Raise :class:`OptedOut` when the person is on the list (nothing may be sent)."""
        if await self.is_opted_out(tenant_id, channel, participant):
            raise OptedOut(
                f"this person opted out of this tenant's {channel.value} messages (STOP): "
                "nothing was sent. They opt in again by sending START"
            )

    async def unsubscribed(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """The provider refused a send because the person unsubscribed: list them."""
        source = ConsentSource.SEND_ERROR
        return await self._opt_out(tenant_id, channel, participant, source, None, None)

    async def lift(self, tenant_id: str, channel: Channel, participant: str, *, by: str) -> bool:
        """An operator takes the person off the list; ``False`` if they were not on it."""
        return await self._opt_in(tenant_id, channel, participant, ConsentSource.ADMIN, by=by)

    async def opt_outs(
        self, tenant_id: str, *, channel: Channel | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[OptOut]:
        """The tenant's list, newest first (pseudonyms only)."""
        return await self._store.opt_outs(tenant_id, channel=channel, limit=limit, offset=offset)

    async def _opt_out(
        self,
        tenant_id: str,
        channel: Channel,
        participant: str,
        source: ConsentSource,
        cause: str | None,
        session_id: str | None,
    ) -> bool:
        now = self._clock.now()
        record = OptOut(
            tenant_id=tenant_id,
            channel=channel,
            participant=participant,
            opted_out_at=now,
            source=source,
        )
        if not await self._store.opt_out(record):
            return False
        # Keyed by the message that caused it, so a re-run of that message records it once.
        key = None if cause is None else f"opted-out:{cause}"
        event = OptedOutEvent(
            tenant_id=tenant_id,
            channel=channel,
            participant=participant,
            occurred_at=now,
            idempotency_key=key,
            session_id=session_id,
            source=source,
        )
        await self._events.append(event)
        log.info("a person opted out of %s's %s messages (%s)", tenant_id, channel, source)
        return True

    async def _opt_in(
        self,
        tenant_id: str,
        channel: Channel,
        participant: str,
        source: ConsentSource,
        *,
        cause: str | None = None,
        session_id: str | None = None,
        by: str | None = None,
    ) -> bool:
        if not await self._store.opt_in(tenant_id, channel, participant):
            return False
        event = OptedInEvent(
            tenant_id=tenant_id,
            channel=channel,
            participant=participant,
            occurred_at=self._clock.now(),
            idempotency_key=None if cause is None else f"opted-in:{cause}",
            session_id=session_id,
            source=source,
            by=by,
        )
        await self._events.append(event)
        log.info("a person opted in to %s's %s messages again (%s)", tenant_id, channel, source)
        return True
