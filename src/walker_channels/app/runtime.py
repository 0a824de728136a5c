"""The running application: every service, store and transport, and their start and close.

:func:`~walker_channels.app.build.build_services` builds a :class:`Services`; the
adapters start it on their event loop and close it at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from walker_channels.app.config import WebConfig
from walker_channels.models import Channel
from walker_channels.ports import (
    AgentRunner,
    ApprovalStore,
    BriefScheduleStore,
    Clock,
    EventStore,
    InboundQueue,
    MessageTransport,
    MonitoringReader,
    OutboundLedger,
    TenantResolver,
)
from walker_channels.services import (
    ConversationService,
    DeliveryTracker,
    OutboundSender,
    ProactiveSender,
    ReviewService,
    ServiceConfig,
)

if TYPE_CHECKING:  # the email package needs the "email" extra; only its types are named here
    from walker_channels.services.email import BriefScheduler, DailyBriefService, EmailService

logger = logging.getLogger("walker_channels.web")

Hook = Callable[[], Awaitable[None]]


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


@dataclass(frozen=True)
class EmailServices:
    """The email channel's services (present when an email transport is configured)."""

    emails: EmailService
    briefs: DailyBriefService
    scheduler: BriefScheduler


@dataclass
class Services:
    """Everything walker-channels built, ready to serve once :meth:`start` ran."""

    config: ServiceConfig
    web: WebConfig
    clock: Clock
    stores: StoreSet
    agent: AgentRunner
    transports: Mapping[Channel, MessageTransport]
    sender: OutboundSender
    conversations: ConversationService
    review: ReviewService
    proactive: ProactiveSender
    delivery: DeliveryTracker
    email: EmailServices | None = None
    on_start: list[Hook] = field(default_factory=list)
    """Run in order by :meth:`start` (e.g. database migrations)."""
    on_close: list[Hook] = field(default_factory=list)
    """Run in reverse order by :meth:`close`: what the root built, it closes; nothing else."""
    _started: bool = field(default=False, init=False)

    async def start(self) -> None:
        """Run the start-up hooks once, on the event loop that will serve requests."""
        if self._started:
            return
        self._started = True
        for hook in self.on_start:
            await hook()

    async def close(self) -> None:
        """Run the close hooks once, newest first; one failing does not stop the others."""
        hooks, self.on_close = list(reversed(self.on_close)), []
        for hook in hooks:
            try:
                await hook()
            except Exception:
                logger.exception("closing a walker-channels resource failed")
