"""The :class:`~walker_channels.ports.OutboundLedger` contract."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from walker_channels.exceptions import NotFound
from walker_channels.models import (
    Address,
    Channel,
    DeliveryStatus,
    OutboundEvent,
    OutboundMessage,
    OutboundPayload,
    OutboundRecord,
    OutboundState,
    Scope,
    Settlement,
)
from walker_channels.ports import EventStore, OutboundLedger
from walker_channels.testing.contracts.common import T0

_SENT = Settlement(state=OutboundState.SENT, at=T0, provider_message_id="SM1")
_UNKNOWN = Settlement(state=OutboundState.UNKNOWN, at=T0)


def outbound_record(
    key: str, *, at: datetime = T0, tenant_id: str = "t1", payload: bool = False
) -> OutboundRecord:
    """A pending ledger record for the suites (with a payload to one number when asked)."""
    to = Address(channel=Channel.WHATSAPP, value="+14155552671")
    message = OutboundMessage(channel=Channel.WHATSAPP, to=to, text="hello")
    return OutboundRecord(
        key=key,
        tenant_id=tenant_id,
        channel=Channel.WHATSAPP,
        participant="p1",
        created_at=at,
        updated_at=at,
        payload=OutboundPayload(message=message, context={}) if payload else None,
    )


def sent_event(key: str) -> OutboundEvent:
    """The sent event a settlement of ``key`` appends."""
    return OutboundEvent(
        tenant_id="t1",
        channel=Channel.WHATSAPP,
        participant="p1",
        occurred_at=T0,
        idempotency_key=f"outbound:{key}",
        provider_message_id="SM1",
        text="hello",
    )


async def _stored(ledger: OutboundLedger, key: str) -> OutboundRecord:
    """The record ``ledger`` holds under ``key``, which must exist."""
    record = await ledger.get(key)
    assert record is not None, f"the ledger lost the record {key!r}"
    return record


@pytest.mark.anyio
class OutboundLedgerContract:
    """Provide an empty ledger as ``outbound_ledger`` and the event store its settlements
    append to as ``ledger_events``."""

    @pytest.fixture
    def outbound_ledger(self) -> OutboundLedger:
        """Override: an empty OutboundLedger."""
        raise NotImplementedError

    @pytest.fixture
    def ledger_events(self, outbound_ledger: OutboundLedger) -> EventStore:
        """Override: the EventStore that ``outbound_ledger.settle`` appends to."""
        raise NotImplementedError

    async def test_a_key_is_reserved_once(self, outbound_ledger: OutboundLedger) -> None:
        assert await outbound_ledger.reserve(outbound_record("k")) is True
        assert await outbound_ledger.reserve(outbound_record("k")) is False
        assert (await _stored(outbound_ledger, "k")).state is OutboundState.PENDING

    async def test_concurrent_reservations_have_one_winner(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        results = await asyncio.gather(
            *(outbound_ledger.reserve(outbound_record("k")) for _ in range(20))
        )
        assert results.count(True) == 1

    async def test_settling_records_the_outcome(self, outbound_ledger: OutboundLedger) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        assert await outbound_ledger.settle("k", _SENT) is True
        record = await _stored(outbound_ledger, "k")
        assert (record.state, record.provider_message_id) == (OutboundState.SENT, "SM1")

    async def test_a_settlement_and_its_event_are_stored_together(
        self, outbound_ledger: OutboundLedger, ledger_events: EventStore
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        assert await outbound_ledger.settle("k", _SENT, event=sent_event("k")) is True
        # The event is stored: appending it again is refused by its idempotency key.
        assert await ledger_events.append(sent_event("k")) is False

    async def test_a_settlement_from_another_state_changes_nothing(
        self, outbound_ledger: OutboundLedger, ledger_events: EventStore
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle("k", _SENT)
        assert await outbound_ledger.settle("k", _UNKNOWN, event=sent_event("k")) is False
        assert (await _stored(outbound_ledger, "k")).state is OutboundState.SENT
        assert await ledger_events.append(sent_event("k")) is True

    async def test_concurrent_settlements_have_one_winner(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle("k", _UNKNOWN)
        found = _SENT.model_copy(update={"expected": (OutboundState.UNKNOWN,)})
        results = await asyncio.gather(*(outbound_ledger.settle("k", found) for _ in range(10)))
        assert results.count(True) == 1

    async def test_settling_an_unreserved_key_is_not_found(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        with pytest.raises(NotFound):
            await outbound_ledger.settle("missing", _SENT)

    async def test_the_payload_is_kept_until_the_send_went_out(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k", payload=True))
        await outbound_ledger.settle("k", _UNKNOWN)
        kept = await _stored(outbound_ledger, "k")
        assert kept.payload is not None
        assert kept.payload.message.to.value == "+14155552671"
        await outbound_ledger.settle(
            "k", _SENT.model_copy(update={"expected": (OutboundState.UNKNOWN,)})
        )
        assert (await _stored(outbound_ledger, "k")).payload is None

    async def test_only_a_failed_send_is_retried_and_attempts_are_compared(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        assert await outbound_ledger.retry("k", at=T0) is False
        await outbound_ledger.settle("k", Settlement(state=OutboundState.FAILED, at=T0))
        assert await outbound_ledger.retry("k", at=T0, attempts=2) is False
        assert await outbound_ledger.retry("k", at=T0, attempts=1) is True
        record = await _stored(outbound_ledger, "k")
        assert (record.state, record.attempts) == (OutboundState.PENDING, 2)
        await outbound_ledger.settle("k", _UNKNOWN)
        assert await outbound_ledger.retry("k", at=T0) is False

    async def test_due_lists_what_a_sweep_should_act_on(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        later = T0 + timedelta(minutes=5)
        for key in ("unknown", "failed", "not-yet", "sent", "stale", "fresh"):
            at = T0 - timedelta(hours=1) if key == "stale" else T0
            await outbound_ledger.reserve(outbound_record(key, at=at))
        await outbound_ledger.settle("unknown", _UNKNOWN.model_copy(update={"next_attempt_at": T0}))
        failed = Settlement(state=OutboundState.FAILED, at=T0, next_attempt_at=T0)
        await outbound_ledger.settle("failed", failed)
        await outbound_ledger.settle(
            "not-yet", _UNKNOWN.model_copy(update={"next_attempt_at": later})
        )
        await outbound_ledger.settle("sent", _SENT)
        due = await outbound_ledger.due(T0, stale_before=T0 - timedelta(minutes=10))
        assert {r.key for r in due} == {"unknown", "failed", "stale"}
        assert due[0].key == "stale"
        assert {r.key for r in await outbound_ledger.due(T0)} == {"unknown", "failed"}

    async def test_unsettled_sends_are_listed_by_scope_and_prefix(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        for key, tenant in (("approval:a", "t1"), ("reply:b", "t1"), ("approval:c", "t2")):
            await outbound_ledger.reserve(outbound_record(key, tenant_id=tenant))
            await outbound_ledger.settle(key, _UNKNOWN)
        await outbound_ledger.reserve(outbound_record("approval:d"))
        mine = await outbound_ledger.unsettled(Scope(tenant_ids=frozenset({"t1"})))
        assert [r.key for r in mine] == ["approval:a", "reply:b"]
        everyone = await outbound_ledger.unsettled(Scope(tenant_ids=None), key_prefix="approval:")
        assert [r.key for r in everyone] == ["approval:a", "approval:c"]

    async def test_delivery_status_never_goes_backwards(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle("k", _SENT)
        delivered = await outbound_ledger.advance_delivery(
            provider_message_id="SM1", status=DeliveryStatus.DELIVERED, at=T0
        )
        assert delivered is not None
        assert delivered.delivery_status is DeliveryStatus.DELIVERED
        stale = await outbound_ledger.advance_delivery(
            provider_message_id="SM1", status=DeliveryStatus.SENT, at=T0
        )
        assert stale is None
        assert (await _stored(outbound_ledger, "k")).delivery_status is DeliveryStatus.DELIVERED

    async def test_a_callback_settles_an_unknown_outcome_by_key(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle("k", _UNKNOWN.model_copy(update={"next_attempt_at": T0}))
        record = await outbound_ledger.advance_delivery(
            provider_message_id="SM9", status=DeliveryStatus.SENT, at=T0, key="k"
        )
        assert record is not None
        assert (record.state, record.provider_message_id) == (OutboundState.SENT, "SM9")
        assert record.next_attempt_at is None

    async def test_an_unknown_message_changes_nothing(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        result = await outbound_ledger.advance_delivery(
            provider_message_id="SMx", status=DeliveryStatus.SENT, at=T0
        )
        assert result is None
