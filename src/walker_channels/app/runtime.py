"""The running application: every service, store and transport, and their start and close.

:func:`~walker_channels.app.build.build_services` builds a finished :class:`Services`; the
adapters start it on their event loop and close it at shutdown. What the builder created
itself it registered with the services' :class:`Lifecycle`, which closes it, newest first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from walker_channels.app.config import WebConfig
from walker_channels.channels import ChannelSpec
from walker_channels.models import Channel
from walker_channels.ports import (
    AcceptStore,
    AgentRunner,
    ApprovalStore,
    BriefScheduleStore,
    Clock,
    ConsentStore,
    ConversationStore,
    Dispatcher,
    EventStore,
    InboundQueue,
    MessageTransport,
    MonitoringReader,
    OutboundLedger,
    PrivacyStore,
    TenantResolver,
    TenantSettingsStore,
    TurnStore,
)
from walker_channels.services import (
    ConsentService,
    ConversationService,
    DeliveryTracker,
    HandoffService,
    OutboundSender,
    PrivacyService,
    ProactiveSender,
    ReviewService,
    ServiceConfig,
)

if TYPE_CHECKING:  # the email package needs the "email" extra; only its types are named here
    from walker_channels.services.email import BriefScheduler, DailyBriefService, EmailService

logger = logging.getLogger("walker_channels.app")

Close = Callable[[], Awaitable[None]]
"""Closes one resource the builder created."""
StartHook = Callable[["Services"], Awaitable[None]]
"""Runs once when the services start, on the loop that serves (migrations, seeding, loops)."""


class StoreSet(Protocol):
    """Every store the services need (``walker_channels.sql.SqlStores`` is one)."""

    @property
    def events(self) -> EventStore:
        """The conversation log."""
        ...

    @property
    def approvals(self) -> ApprovalStore:
        """Drafts waiting for review."""
        ...

    @property
    def ledger(self) -> OutboundLedger:
        """One record per intended send."""
        ...

    @property
    def inbox(self) -> InboundQueue:
        """Accepted inbound messages not yet answered."""
        ...

    @property
    def accepts(self) -> AcceptStore:
        """Writes an accepted message's conversation, queue entry and event together."""
        ...

    @property
    def turns(self) -> TurnStore:
        """Claims queued messages with the records answering them needs."""
        ...

    @property
    def tenants(self) -> TenantResolver:
        """Which tenant owns a receiving number."""
        ...

    @property
    def schedules(self) -> BriefScheduleStore:
        """Daily-brief schedules."""
        ...

    @property
    def monitoring(self) -> MonitoringReader:
        """The admin read side."""
        ...

    @property
    def conversations(self) -> ConversationStore:
        """One record per conversation: agent or human mode, session, reply address."""
        ...

    @property
    def privacy(self) -> PrivacyStore:
        """Erasure of one person's data, and the retention purge."""
        ...

    @property
    def consent(self) -> ConsentStore:
        """Who opted out of which tenant's messages, per channel."""
        ...

    @property
    def tenant_settings(self) -> TenantSettingsStore:
        """Each tenant's consent keywords and window fallback."""
        ...


@dataclass(frozen=True)
class EmailServices:
    """The email channel's services (present when an email transport is configured)."""

    emails: EmailService
    briefs: DailyBriefService
    scheduler: BriefScheduler


class Lifecycle:
    """Start hooks run once, in order; what the builder created is closed once, newest first."""

    def __init__(self) -> None:
        self._startup: list[StartHook] = []
        self._resources = AsyncExitStack()
        self._started = False
        self._closed = False

    def starts(self, hook: StartHook) -> None:
        """Run ``hook`` when the services start, after those registered before it."""
        self._startup.append(hook)

    def closes(self, close: Close) -> None:
        """Close ``close``'s resource when the services close (register at build time)."""
        self._resources.push_async_callback(_logged, close)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran."""
        return self._closed

    async def start(self, services: Services) -> None:
        """Run the start hooks once."""
        if self._started:
            return
        self._started = True
        for hook in self._startup:
            await hook(services)

    async def close(self) -> None:
        """Close every registered resource once; one failing does not stop the others."""
        if self._closed:
            return
        self._closed = True
        await self._resources.aclose()


async def _logged(close: Close) -> None:
    try:
        await close()
    except Exception:
        logger.exception("closing a walker-channels resource failed")


@dataclass(frozen=True)
class Services:
    """Everything walker-channels built, ready to serve once :meth:`start` ran."""

    config: ServiceConfig
    web: WebConfig
    clock: Clock
    stores: StoreSet
    agent: AgentRunner
    channels: Mapping[Channel, ChannelSpec]
    """Every channel served: its transport, rules and webhook (email included when configured)."""
    sender: OutboundSender
    conversations: ConversationService
    review: ReviewService
    proactive: ProactiveSender
    delivery: DeliveryTracker
    privacy: PrivacyService
    handoff: HandoffService
    dispatcher: Dispatcher
    """Gets every message a webhook accepts (:mod:`walker_channels.dispatch`)."""
    email: EmailServices | None = None
    consent: ConsentService | None = None
    """The suppression list and its changes (opt-outs, opt-ins, the admin's lifts)."""
    lifecycle: Lifecycle = field(default_factory=Lifecycle, repr=False)

    @property
    def transports(self) -> Mapping[Channel, MessageTransport]:
        """Every channel's transport."""
        return {name: spec.transport for name, spec in self.channels.items()}

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran (everything the builder created is closed)."""
        return self.lifecycle.closed

    async def start(self) -> None:
        """Run the start-up hooks once, on the event loop that will serve requests."""
        await self.lifecycle.start(self)

    async def close(self) -> None:
        """Close what the builder created, once, newest first; objects passed in stay open."""
        await self.lifecycle.close()
