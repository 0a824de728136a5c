"""The :class:`~walker_channels.ports.OutboundLedger` contract."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from walker_channels.models import Channel, DeliveryStatus, OutboundRecord, OutboundState
from walker_channels.ports import OutboundLedger
from walker_channels.testing.contracts.common import T0


def outbound_record(key: str, *, at: datetime = T0) -> OutboundRecord:
    """A pending ledger record for the suites."""
    return OutboundRecord(
        key=key,
        tenant_id="t1",
        channel=Channel.WHATSAPP,
        participant="p1",
        created_at=at,
        updated_at=at,
    )


async def _stored(ledger: OutboundLedger, key: str) -> OutboundRecord:
    """The record ``ledger`` holds under ``key``, which must exist."""
    record = await ledger.get(key)
    assert record is not None, f"the ledger lost the record {key!r}"
    return record


@pytest.mark.anyio
class OutboundLedgerContract:
    """Provide an empty ledger as the ``outbound_ledger`` fixture."""

    @pytest.fixture
    def outbound_ledger(self) -> OutboundLedger:
        """Override: an empty OutboundLedger."""
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
        await outbound_ledger.settle(
            "k", state=OutboundState.SENT, at=T0, provider_message_id="SM1"
        )
        record = await _stored(outbound_ledger, "k")
        assert (record.state, record.provider_message_id) == (OutboundState.SENT, "SM1")

    async def test_delivery_status_never_goes_backwards(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        await outbound_ledger.reserve(outbound_record("k"))
        await outbound_ledger.settle(
            "k", state=OutboundState.SENT, at=T0, provider_message_id="SM1"
        )
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
        await outbound_ledger.settle("k", state=OutboundState.UNKNOWN, at=T0)
        record = await outbound_ledger.advance_delivery(
            provider_message_id="SM9", status=DeliveryStatus.SENT, at=T0, key="k"
        )
        assert record is not None
        assert (record.state, record.provider_message_id) == (OutboundState.SENT, "SM9")

    async def test_an_unknown_message_changes_nothing(
        self, outbound_ledger: OutboundLedger
    ) -> None:
        result = await outbound_ledger.advance_delivery(
            provider_message_id="SMx", status=DeliveryStatus.SENT, at=T0
        )
        assert result is None
