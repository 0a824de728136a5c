"""Twilio's ``partially_delivered`` is a delivery status of its own, ranked past ``sent`` and
short of the final outcomes, which still replace it (and never it them): in the rank, in the
in-memory ledger, and in the SQL ledger migrated to head (SQLite, and PostgreSQL if given).

(The SQL check lives here, not in ``tests/integration/``: pytest imports test modules by
basename, and this file's name was the one given for both.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from walker_channels import DeliveryStatus, delivery_advances, delivery_rank
from walker_channels.models import Channel, OutboundRecord, OutboundState, Settlement
from walker_channels.ports import OutboundLedger
from walker_channels.sql import SqlStores
from walker_channels.testing import InMemoryOutboundLedger
from walker_channels.twilio.statuses import delivery_status
from walker_channels.twilio.webhooks import parse_status_callback

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SID = "SM" + "1" * 32
PARTIAL = DeliveryStatus.PARTIALLY_DELIVERED
BEFORE = (
    *(DeliveryStatus.UNKNOWN, DeliveryStatus.QUEUED, DeliveryStatus.ACCEPTED),
    *(DeliveryStatus.SCHEDULED, DeliveryStatus.SENDING, DeliveryStatus.SENT),
)
FINAL = (
    *(DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED),
    *(DeliveryStatus.FAILED, DeliveryStatus.CANCELED),
)


def test_twilios_partially_delivered_maps_to_its_own_status() -> None:
    assert delivery_status("partially_delivered") is PARTIAL
    assert delivery_status(" PARTIALLY_DELIVERED ") is PARTIAL
    assert PARTIAL.value == "partially_delivered"


def test_a_partially_delivered_callback_becomes_a_delivery_update() -> None:
    form = {
        "MessageSid": SID,
        "MessageStatus": "partially_delivered",
        "From": "+14155550100",
        "To": "+14155550123",
        "AccountSid": "AC" + "0" * 32,
    }
    update = parse_status_callback(form, received_at=AT)
    assert (update.channel, update.status) == (Channel.SMS, PARTIAL)


def test_it_ranks_after_sent_and_before_every_final_outcome() -> None:
    assert all(delivery_rank(status) < delivery_rank(PARTIAL) for status in BEFORE)
    assert all(delivery_rank(PARTIAL) < delivery_rank(status) for status in FINAL)
    assert delivery_rank(PARTIAL) < delivery_rank(DeliveryStatus.READ)


@pytest.mark.parametrize("earlier", [None, *BEFORE])
def test_it_moves_a_message_on_from_any_earlier_status(earlier: DeliveryStatus | None) -> None:
    assert delivery_advances(earlier, PARTIAL)


@pytest.mark.parametrize("outcome", [*FINAL, DeliveryStatus.READ])
def test_a_final_outcome_replaces_it_and_is_never_replaced_by_it(
    outcome: DeliveryStatus,
) -> None:
    assert delivery_advances(PARTIAL, outcome)
    assert not delivery_advances(outcome, PARTIAL)
    assert not delivery_advances(PARTIAL, PARTIAL)


def test_the_final_outcomes_are_still_alternatives_of_which_the_first_stays() -> None:
    for first in FINAL:
        assert not any(delivery_advances(first, other) for other in FINAL)


async def applied_in_turn(ledger: OutboundLedger) -> list[DeliveryStatus | None]:
    """Send one SMS, then report partial, failed, partial, delivered: what each one changed."""
    record = OutboundRecord(
        key="k", tenant_id="t1", channel=Channel.SMS, participant="p1", created_at=AT, updated_at=AT
    )
    await ledger.reserve(record)
    await ledger.settle("k", Settlement(state=OutboundState.SENT, at=AT, provider_message_id=SID))
    applied = [
        await ledger.advance_delivery(provider_message_id=SID, status=status, at=AT)
        for status in (PARTIAL, DeliveryStatus.FAILED, PARTIAL, DeliveryStatus.DELIVERED)
    ]
    stored = await ledger.get("k")
    assert stored is not None
    assert stored.delivery_status is DeliveryStatus.FAILED
    return [None if changed is None else changed.delivery_status for changed in applied]


IN_TURN = [PARTIAL, DeliveryStatus.FAILED, None, None]


@pytest.mark.anyio
async def test_the_in_memory_ledger_keeps_a_failure_around_a_partial_delivery() -> None:
    assert await applied_in_turn(InMemoryOutboundLedger()) == IN_TURN


@pytest.fixture
async def stores(database: tuple[str, str | None]) -> AsyncIterator[SqlStores]:
    # Migration 0003 widened walker_outbound.delivery_status for 'partially_delivered'.
    url, schema = database
    sql = SqlStores.from_url(url, schema=schema)
    await sql.upgrade()
    yield sql
    await sql.dispose()


@pytest.mark.anyio
async def test_the_sql_ledger_keeps_a_failure_around_a_partial_delivery(
    stores: SqlStores,
) -> None:
    assert await applied_in_turn(stores.ledger) == IN_TURN
