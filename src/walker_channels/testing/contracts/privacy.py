"""The :class:`~walker_channels.ports.PrivacyStore` contract: erasure and the retention purge.

The suite writes through the other store ports, so it needs the whole store set: provide it as
the ``privacy_world`` fixture (``InMemoryStores``, ``SqlStores``, or yours), and the
``own_number`` fixture that gives a tenant a receiving number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

import pytest

from walker_channels.models import (
    Address,
    ApprovalStatus,
    Channel,
    Decision,
    ErasureRequest,
    InboundEvent,
    LogQuery,
    OutboundEvent,
    OutboundMessage,
    OutboundPayload,
    QueuedInbound,
    StatsQuery,
)
from walker_channels.ports import (
    ApprovalStore,
    ConversationStore,
    EventStore,
    InboundQueue,
    MonitoringReader,
    OutboundLedger,
    PrivacyStore,
    TenantResolver,
)
from walker_channels.testing.contracts.approvals import approval
from walker_channels.testing.contracts.common import ALL, T0
from walker_channels.testing.contracts.conversations import conversation
from walker_channels.testing.contracts.inbox import queued
from walker_channels.testing.contracts.ledger import outbound_record

ADA, BOB = "+14155552671", "+14155550199"
"""The person erased, and another person of the same tenant."""
ADA_ID, BOB_ID = "p-ada", "p-bob"
"""Their pseudonyms."""
ADA_SESSION = f"t1:whatsapp:{ADA_ID}:1767603600"
OwnNumber = Callable[[str, str], Awaitable[None]]
"""Gives a tenant a receiving number (``whatsapp:+E164``)."""


class PrivacyWorld(Protocol):
    """The stores the suite writes through and reads back (a store set)."""

    @property
    def events(self) -> EventStore: ...
    @property
    def approvals(self) -> ApprovalStore: ...
    @property
    def ledger(self) -> OutboundLedger: ...
    @property
    def inbox(self) -> InboundQueue: ...
    @property
    def tenants(self) -> TenantResolver: ...
    @property
    def monitoring(self) -> MonitoringReader: ...
    @property
    def privacy(self) -> PrivacyStore: ...
    @property
    def conversations(self) -> ConversationStore: ...


def erasure(tenant: str = "t1", *, who: str = ADA_ID, address: str = ADA) -> ErasureRequest:
    """The erasure of Ada (by default) for the suite."""
    return ErasureRequest(
        tenant_id=tenant, participant=who, address=address, requested_by="dpo", at=T0
    )


def _said(who: str, text: str, *, tenant: str | None = "t1", at: datetime = T0) -> InboundEvent:
    session = ADA_SESSION if who == ADA_ID and tenant == "t1" else f"s-{who}-{tenant}"
    return InboundEvent(
        tenant_id=tenant,
        channel=Channel.WHATSAPP,
        participant=who,
        occurred_at=at,
        session_id=session,
        text=text,
    )


def _answered(who: str, text: str, *, at: datetime) -> OutboundEvent:
    return OutboundEvent(
        tenant_id="t1",
        channel=Channel.WHATSAPP,
        participant=who,
        occurred_at=at,
        agent_id="support",
        confidence=0.9,
        response_time_ms=120.0,
        text=text,
    )


def _queued(item_id: str, number: str, tenant: str = "t1") -> QueuedInbound:
    item = queued(item_id)
    sender = Address(channel=Channel.WHATSAPP, value=number)
    moved: QueuedInbound = item.replace(
        message=item.message.replace(sender=sender), tenant_id=tenant
    )
    return moved


def _payload(number: str, text: str) -> OutboundPayload:
    to = Address(channel=Channel.WHATSAPP, value=number)
    return OutboundPayload(message=OutboundMessage(channel=Channel.WHATSAPP, to=to, text=text))


async def _seed_person(world: PrivacyWorld, who: str, number: str, tenant: str = "t1") -> str:
    """A conversation of ``who`` in ``tenant``: inbound, reply, draft, send, queued message."""
    await world.events.append(_said(who, f"hello from {who}", tenant=tenant))
    draft = approval(tenant).replace(
        participant=who, recipient=Address(channel=Channel.WHATSAPP, value=number)
    )
    await world.approvals.create(draft)
    await world.ledger.reserve(
        outbound_record(f"reply:{who}:{tenant}").replace(participant=who, tenant_id=tenant)
    )
    await world.inbox.enqueue(_queued(f"SM-{who}-{tenant}", number, tenant))
    await world.conversations.upsert(conversation(tenant, who, number=number))
    return str(draft.id)


@pytest.mark.anyio
class PrivacyStoreContract:
    """Provide the store set as ``privacy_world`` and a way to own numbers as ``own_number``."""

    @pytest.fixture
    def privacy_world(self) -> PrivacyWorld:
        """Override: an empty store set with a privacy store."""
        raise NotImplementedError

    @pytest.fixture
    def own_number(self, privacy_world: PrivacyWorld) -> OwnNumber:
        """Override: ``own(tenant_id, "whatsapp:+E164")`` gives the tenant that number."""
        raise NotImplementedError

    async def test_erasure_removes_the_person_in_the_tenant_and_records_it(
        self, privacy_world: PrivacyWorld, own_number: OwnNumber
    ) -> None:
        world = privacy_world
        ada_draft = await _seed_person(world, ADA_ID, ADA)
        bob_draft = await _seed_person(world, BOB_ID, BOB)
        await world.events.append(_said(ADA_ID, "to nobody", tenant=None))
        await own_number("t1", f"whatsapp:{ADA}")

        record = await world.privacy.erase(erasure())

        assert (record.tenant_id, record.participant, record.requested_by) == ("t1", ADA_ID, "dpo")
        assert record.removed["events"] == 2
        assert record.removed["approvals"] == record.removed["outbound"] == 1
        assert record.removed["inbound_queue"] == record.removed["tenant_numbers"] == 1
        assert record.removed["conversations"] == 1
        assert await world.conversations.get(conversation("t1", ADA_ID).id) is None
        assert await world.conversations.get(conversation("t1", BOB_ID).id) is not None
        assert await world.privacy.erasures("t1") == [record]
        assert await world.events.last_session("t1", Channel.WHATSAPP, ADA_ID) is None
        assert await world.events.last_inbound_at("t1", Channel.WHATSAPP, ADA_ID) is None
        assert await world.approvals.get(ada_draft) is None
        assert await world.ledger.get(f"reply:{ADA_ID}:t1") is None
        assert await world.tenants.resolve(Address(channel=Channel.WHATSAPP, value=ADA)) is None
        left = await world.inbox.claim(now=T0, lease=timedelta(minutes=1), limit=10)
        assert [item.message.sender.value for item in left] == [BOB]
        # Bob keeps everything.
        assert await world.approvals.get(bob_draft) is not None
        assert await world.ledger.get(f"reply:{BOB_ID}:t1") is not None
        assert await world.events.last_inbound_at("t1", Channel.WHATSAPP, BOB_ID) == T0

    async def test_erasure_leaves_the_person_in_other_tenants(
        self, privacy_world: PrivacyWorld
    ) -> None:
        world = privacy_world
        await _seed_person(world, ADA_ID, ADA)
        other = await _seed_person(world, ADA_ID, ADA, tenant="t2")

        await world.privacy.erase(erasure())

        assert await world.approvals.get(other) is not None
        assert await world.ledger.get(f"reply:{ADA_ID}:t2") is not None
        assert await world.events.last_inbound_at("t2", Channel.WHATSAPP, ADA_ID) == T0
        assert await world.privacy.erasures("t2") == []

    async def test_erasing_again_removes_nothing_and_is_recorded_again(
        self, privacy_world: PrivacyWorld
    ) -> None:
        await _seed_person(privacy_world, ADA_ID, ADA)
        first = await privacy_world.privacy.erase(erasure())

        second = await privacy_world.privacy.erase(erasure().replace(at=T0 + timedelta(hours=1)))

        assert sum(second.removed.values()) == 0 < sum(first.removed.values())
        assert [r.id for r in await privacy_world.privacy.erasures("t1")] == [first.id, second.id]

    async def test_the_purge_blanks_old_text_and_keeps_every_figure(
        self, privacy_world: PrivacyWorld
    ) -> None:
        world, later = privacy_world, T0 + timedelta(days=10)
        for at in (T0, later):
            await world.events.append(_said(ADA_ID, "my card is 4111", at=at))
            await world.events.append(_answered(ADA_ID, "noted", at=at + timedelta(seconds=1)))
        decided, pending = await self._drafts(world)
        unsent = outbound_record("approval:x").replace(payload=_payload(ADA, "draft text"))
        await world.ledger.reserve(unsent)
        query = StatsQuery(scope=ALL)
        before = await world.monitoring.stats(query), await world.monitoring.agent_analytics(query)

        report = await world.privacy.purge_text(T0 + timedelta(days=5))

        assert (report.events, report.approvals, report.sends, report.complete) == (2, 1, 1, True)
        after = await world.monitoring.stats(query), await world.monitoring.agent_analytics(query)
        assert after == before
        previews = [e.preview for e in (await world.monitoring.logs(_log())).items]
        assert sorted(previews) == ["", "", "my card is 4111", "noted"]
        old = await world.approvals.get(decided)
        assert old is not None
        assert (old.proposed_text, old.final_text, old.recipient) == (
            "",
            None,
            None,
        )
        kept = await world.approvals.get(pending)
        assert kept is not None
        assert kept.recipient is not None
        assert kept.proposed_text == "draft"
        record = await world.ledger.get("approval:x")
        assert record is not None
        assert record.payload is None

    async def test_the_purge_goes_in_batches_and_a_second_purge_changes_nothing(
        self, privacy_world: PrivacyWorld
    ) -> None:
        for minute in range(3):
            await privacy_world.events.append(
                _said(ADA_ID, "hi", at=T0 + timedelta(minutes=minute))
            )
        cutoff = T0 + timedelta(days=1)

        first = await privacy_world.privacy.purge_text(cutoff, limit=2)
        rest = await privacy_world.privacy.purge_text(cutoff, limit=2)
        again = await privacy_world.privacy.purge_text(cutoff, limit=2)

        assert (first.events, first.complete) == (2, False)
        assert (rest.events, rest.complete) == (1, True)
        assert (again.events, again.complete) == (0, True)

    async def test_the_purge_from_since_leaves_older_rows(
        self, privacy_world: PrivacyWorld
    ) -> None:
        await privacy_world.events.append(_said(ADA_ID, "old", at=T0))
        await privacy_world.events.append(_said(ADA_ID, "newer", at=T0 + timedelta(days=2)))

        report = await privacy_world.privacy.purge_text(
            T0 + timedelta(days=3), since=T0 + timedelta(days=1)
        )

        assert report.events == 1
        previews = {e.preview for e in (await privacy_world.monitoring.logs(_log())).items}
        assert previews == {"old", ""}

    async def _drafts(self, world: PrivacyWorld) -> tuple[str, str]:
        decided, pending = approval(), approval(at=T0 + timedelta(minutes=1))
        for draft in (decided, pending):
            await world.approvals.create(draft)
        decision = Decision(
            status=ApprovalStatus.APPROVED, decided_by="rev", decided_at=T0, final_text="sent"
        )
        await world.approvals.decide(decided.id, decision)
        return decided.id, pending.id


def _log() -> LogQuery:
    return LogQuery(scope=ALL, limit=50)
