"""Every store the services need, in memory: the in-memory twin of ``SqlStores``.

Pass it to ``build_services(stores=InMemoryStores())`` for tests and demos that need no
database; each member is a fake from :mod:`walker_channels.testing`, open for inspection.
"""

from __future__ import annotations

from walker_channels.exceptions import Conflict
from walker_channels.models import Address
from walker_channels.phones import receiving_address
from walker_channels.services.intake import StoreAccept
from walker_channels.services.turns import StoreTurns
from walker_channels.testing.consent import InMemoryConsentStore, InMemoryTenantSettingsStore
from walker_channels.testing.conversations import InMemoryConversationStore
from walker_channels.testing.fakes import (
    InMemoryApprovalStore,
    InMemoryBriefScheduleStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
)
from walker_channels.testing.monitoring import InMemoryMonitoringReader
from walker_channels.testing.privacy import InMemoryPrivacyStore


class InMemoryStores:
    """A :class:`~walker_channels.app.StoreSet` of in-memory fakes; the monitoring reader reads
    the set's own event store."""

    def __init__(self) -> None:
        self._events = InMemoryEventStore()
        self._approvals = InMemoryApprovalStore()
        self._ledger = InMemoryOutboundLedger(self._events)
        self._inbox = InMemoryInboundQueue()
        self._tenants = InMemoryTenantResolver()
        self._schedules = InMemoryBriefScheduleStore()
        self._monitoring = InMemoryMonitoringReader(self._events)
        self._conversations = InMemoryConversationStore(self._events)
        self._accepts = StoreAccept(
            tenants=self._tenants,
            conversations=self._conversations,
            events=self._events,
            queue=self._inbox,
        )
        self._consent = InMemoryConsentStore()
        self._tenant_settings = InMemoryTenantSettingsStore()
        self._turns = StoreTurns(
            queue=self._inbox,
            events=self._events,
            approvals=self._approvals,
            conversations=self._conversations,
            send_record=self._ledger.get,
            consent=self._consent,
            settings=self._tenant_settings,
        )
        self._privacy = InMemoryPrivacyStore(
            events=self._events,
            approvals=self._approvals,
            ledger=self._ledger,
            inbox=self._inbox,
            tenants=self._tenants,
            schedules=self._schedules,
            conversations=self._conversations,
        )

    @property
    def events(self) -> InMemoryEventStore:
        """The conversation log."""
        return self._events

    @property
    def approvals(self) -> InMemoryApprovalStore:
        """Drafts waiting for review."""
        return self._approvals

    @property
    def ledger(self) -> InMemoryOutboundLedger:
        """One record per intended send."""
        return self._ledger

    @property
    def inbox(self) -> InMemoryInboundQueue:
        """Accepted inbound messages not yet answered."""
        return self._inbox

    @property
    def accepts(self) -> StoreAccept:
        """Accept over these stores, one after another."""
        return self._accepts

    @property
    def turns(self) -> StoreTurns:
        """Claims over these stores, each record read after the claim."""
        return self._turns

    @property
    def tenants(self) -> InMemoryTenantResolver:
        """Which tenant owns a receiving number."""
        return self._tenants

    @property
    def schedules(self) -> InMemoryBriefScheduleStore:
        """Daily-brief schedules."""
        return self._schedules

    @property
    def monitoring(self) -> InMemoryMonitoringReader:
        """The admin read side, over :attr:`events`."""
        return self._monitoring

    @property
    def conversations(self) -> InMemoryConversationStore:
        """One record per conversation, with transcripts from :attr:`events`."""
        return self._conversations

    @property
    def privacy(self) -> InMemoryPrivacyStore:
        """Erasure and retention, over the other members."""
        return self._privacy

    @property
    def consent(self) -> InMemoryConsentStore:
        """Who opted out of which tenant's messages."""
        return self._consent

    @property
    def tenant_settings(self) -> InMemoryTenantSettingsStore:
        """Each tenant's consent keywords and window fallback."""
        return self._tenant_settings

    def add_number(self, tenant_id: str, number: Address | str) -> None:
        """Give ``number`` to ``tenant_id`` on its channel (``whatsapp:+E164``: WhatsApp,
        ``+E164``: SMS, or an email address; see :func:`~walker_channels.phones.receiving_address`).

        Raises :class:`~walker_channels.exceptions.Conflict` when another tenant owns it, as
        the SQL tenant resolver does.
        """
        owner = self._tenants.owners.setdefault(receiving_address(number), tenant_id)
        if owner != tenant_id:
            raise Conflict("that address belongs to another tenant; remove it there first")
