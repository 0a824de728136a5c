"""The :class:`~walker_channels.ports.TurnStore` and
:class:`~walker_channels.ports.SettlingTurnStore` contracts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from walker_channels.exceptions import NotFound
from walker_channels.models import (
    Channel,
    Claim,
    ConsentKeywords,
    InboundEvent,
    OutboundState,
    QueuedInbound,
    Settlement,
    TenantSettings,
)
from walker_channels.ports import (
    ApprovalStore,
    ConsentStore,
    ConversationStore,
    EventStore,
    InboundQueue,
    OutboundLedger,
    SettlingTurnStore,
    TenantSettingsStore,
    TurnStore,
)
from walker_channels.services.intake import inbound_event
from walker_channels.testing.contracts.approvals import approval
from walker_channels.testing.contracts.common import T0
from walker_channels.testing.contracts.consent import opt_out
from walker_channels.testing.contracts.conversations import conversation
from walker_channels.testing.contracts.inbox import queued
from walker_channels.testing.contracts.ledger import outbound_record, sent_event

LEASE = timedelta(seconds=60)
TALK = conversation("t1", "p1")
"""The conversation of the suite's entries (tenant ``t1``, person ``p1``, WhatsApp)."""


@dataclass(frozen=True)
class TurnWorld:
    """A turn store and the stores it claims from and reads, for the suite to fill and look
    at."""

    turns: TurnStore
    queue: InboundQueue
    events: EventStore
    approvals: ApprovalStore
    ledger: OutboundLedger
    conversations: ConversationStore
    consent: ConsentStore
    settings: TenantSettingsStore


class SuiteKeys:
    """The suite's :class:`~walker_channels.ports.TurnRecords`: keys of its own, so a store
    that guessed the service's would fail."""

    def inbound_event(self, item: QueuedInbound) -> InboundEvent:
        """The entry's inbound event, from person ``p1``."""
        return inbound_event(item, "p1")

    def approval_id(self, item: QueuedInbound) -> str:
        """``approval-<id>``."""
        return f"approval-{item.id}"

    def reply_key(self, item: QueuedInbound) -> str:
        """``answer-<id>``."""
        return f"answer-{item.id}"


KEYS = SuiteKeys()


def entry(item_id: str, *, seconds: int = 0) -> QueuedInbound:
    """An entry of :data:`TALK`, queued ``seconds`` after :data:`T0`."""
    return queued(item_id, at=T0 + timedelta(seconds=seconds), conversation=TALK.id)


def claim(*, after: timedelta = timedelta(0), **which: str | int) -> Claim:
    """A claim at ``T0 + after`` under :data:`LEASE`."""
    return Claim(now=T0 + after, lease=LEASE, **which)  # type: ignore[arg-type]


@pytest.mark.anyio
class TurnStoreContract:
    """Provide ``turn_world``: empty stores."""

    @pytest.fixture
    def turn_world(self) -> TurnWorld:
        """Override: the stores, empty."""
        raise NotImplementedError

    async def test_a_claim_records_a_missing_inbound_event_once(
        self, turn_world: TurnWorld
    ) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))

        [first] = await w.turns.claim(claim(item_id="SM1"), KEYS)
        assert first.item.id == "SM1"
        assert first.item.attempts == 1
        assert first.recorded is not None
        assert first.recorded.idempotency_key == KEYS.inbound_event(first.item).idempotency_key
        assert not await w.events.append(KEYS.inbound_event(first.item))  # it is stored

        # The lease ran out (the worker died): the next claim finds the event stored.
        [again] = await w.turns.claim(claim(after=2 * LEASE, item_id="SM1"), KEYS)
        assert (again.item.attempts, again.recorded) == (2, None)

    async def test_a_claim_under_a_live_lease_gets_nothing(self, turn_world: TurnWorld) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))
        assert await w.turns.claim(claim(item_id="SM1"), KEYS)
        assert not await w.turns.claim(claim(after=LEASE / 2, item_id="SM1"), KEYS)

    async def test_a_first_claim_finds_no_earlier_run(self, turn_world: TurnWorld) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))

        [turn] = await w.turns.claim(claim(), KEYS)
        assert (turn.approval, turn.reply_send, turn.conversation) == (None, None, None)
        assert turn.consent is not None
        assert turn.consent.opted_out is False
        assert turn.consent.settings == TenantSettings(tenant_id="t1")

    async def test_a_claim_reads_what_an_earlier_run_and_the_flows_left(
        self, turn_world: TurnWorld
    ) -> None:
        w = turn_world
        item = entry("SM1")
        await w.queue.enqueue(item)
        drafted = approval("t1").replace(id=KEYS.approval_id(item))
        await w.approvals.create(drafted)
        reserved = outbound_record(KEYS.reply_key(item))
        await w.ledger.reserve(reserved)
        stored = await w.conversations.upsert(TALK)
        await w.consent.opt_out(opt_out("p1", tenant_id="t1", channel=Channel.WHATSAPP))
        spanish = ConsentKeywords(stop=("baja",), start=("alta",))
        await w.settings.save(TenantSettings(tenant_id="t1", keywords={"es": spanish}))

        [turn] = await w.turns.claim(claim(), KEYS)
        assert turn.approval == drafted
        assert turn.reply_send == reserved
        assert turn.conversation == stored
        assert turn.consent is not None
        assert turn.consent.opted_out is True
        assert turn.consent.settings.keywords == {"es": spanish}

    async def test_records_of_other_messages_and_people_are_not_read(
        self, turn_world: TurnWorld
    ) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))
        other = entry("SM9")
        await w.approvals.create(approval("t1").replace(id=KEYS.approval_id(other)))
        await w.ledger.reserve(outbound_record(KEYS.reply_key(other)))
        await w.consent.opt_out(opt_out("p2", tenant_id="t1", channel=Channel.WHATSAPP))
        await w.consent.opt_out(opt_out("p1", tenant_id="t1", channel=Channel.SMS))
        await w.consent.opt_out(opt_out("p1", tenant_id="t2", channel=Channel.WHATSAPP))

        [turn] = await w.turns.claim(claim(), KEYS)
        assert (turn.approval, turn.reply_send) == (None, None)
        assert turn.consent is not None
        assert turn.consent.opted_out is False

    async def test_completing_claims_the_conversations_next_entry(
        self, turn_world: TurnWorld
    ) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))
        await w.queue.enqueue(entry("SM2", seconds=1))
        [first] = await w.turns.claim(claim(), KEYS)
        assert first.item.id == "SM1"
        assert not await w.turns.claim(claim(), KEYS)  # SM2 waits behind SM1

        [following] = await w.turns.complete("SM1", KEYS, then=claim(conversation=TALK.id))
        assert following.item.id == "SM2"
        assert following.recorded is not None
        assert not await w.turns.complete("SM2", KEYS, then=claim(conversation=TALK.id))
        assert (await w.queue.stats(now=T0)).waiting == 0

    async def test_completing_without_then_claims_nothing(self, turn_world: TurnWorld) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))
        await w.queue.enqueue(entry("SM2", seconds=1))
        await w.turns.claim(claim(), KEYS)

        assert not await w.turns.complete("SM1", KEYS)
        [turn] = await w.turns.claim(claim(), KEYS)
        assert turn.item.id == "SM2"

    async def test_a_batch_comes_oldest_first_one_per_conversation(
        self, turn_world: TurnWorld
    ) -> None:
        w = turn_world
        for n, talk in enumerate(("c-b", "c-a", "c-b", "c-c")):
            at = T0 + timedelta(seconds=n)
            await w.queue.enqueue(queued(f"SM{n}", at=at, conversation=talk))

        turns = await w.turns.claim(claim(limit=10), KEYS)
        assert [turn.item.id for turn in turns] == ["SM0", "SM1", "SM3"]
        assert all(turn.recorded is not None for turn in turns)


SENT = Settlement(state=OutboundState.SENT, at=T0, provider_message_id="SM1")


@pytest.mark.anyio
class SettlingTurnStoreContract(TurnStoreContract):
    """Provide ``turn_world`` (empty stores) whose ``turns`` is a
    :class:`~walker_channels.ports.SettlingTurnStore`."""

    @staticmethod
    def settling(w: TurnWorld) -> SettlingTurnStore:
        """The world's turn store, which settles."""
        assert isinstance(w.turns, SettlingTurnStore)
        return w.turns

    async def test_a_reply_settles_with_the_completion_and_the_next_claim(
        self, turn_world: TurnWorld
    ) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))
        await w.queue.enqueue(entry("SM2", seconds=1))
        [first] = await w.turns.claim(claim(), KEYS)
        key = KEYS.reply_key(first.item)
        await w.ledger.reserve(outbound_record(key))

        settled, following = await self.settling(w).settle_and_complete(
            key,
            SENT,
            sent_event(key),
            item_id="SM1",
            records=KEYS,
            then=claim(conversation=TALK.id),
        )
        assert settled is True
        assert [turn.item.id for turn in following] == ["SM2"]
        record = await w.ledger.get(key)
        assert record is not None
        assert (record.state, record.provider_message_id) == (OutboundState.SENT, "SM1")
        assert await w.events.append(sent_event(key)) is False  # stored with the settlement
        stats = await w.queue.stats(now=T0)
        assert (stats.waiting, stats.in_progress) == (0, 1)  # SM1 is gone, SM2 is leased

    async def test_a_settlement_that_lost_still_completes(self, turn_world: TurnWorld) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))
        await w.turns.claim(claim(), KEYS)
        await w.ledger.reserve(outbound_record("k"))
        await w.ledger.settle("k", SENT)  # another run settled it first

        settled, following = await self.settling(w).settle_and_complete(
            "k", SENT, sent_event("k"), item_id="SM1", records=KEYS
        )
        assert (settled, following) == (False, ())
        assert await w.events.append(sent_event("k")) is True  # no event for a lost settlement
        stats = await w.queue.stats(now=T0)
        assert (stats.waiting, stats.in_progress) == (0, 0)

    async def test_a_key_never_reserved_changes_nothing(self, turn_world: TurnWorld) -> None:
        w = turn_world
        await w.queue.enqueue(entry("SM1"))
        await w.queue.enqueue(entry("SM2", seconds=1))
        await w.turns.claim(claim(), KEYS)

        with pytest.raises(NotFound):
            await self.settling(w).settle_and_complete(
                "k", SENT, None, item_id="SM1", records=KEYS, then=claim(conversation=TALK.id)
            )
        # All or nothing: SM1 is still queued under its lease, SM2 still waits behind it.
        stats = await w.queue.stats(now=T0)
        assert (stats.waiting, stats.in_progress) == (1, 1)
        assert not await w.turns.claim(claim(), KEYS)
