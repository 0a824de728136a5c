"""Delivery-status callbacks: the ledger only moves forward, and each real change is an event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walker_channels.exceptions import DeliveryUnknown
from walker_channels.models import (
    Address,
    Channel,
    DeliveryStatus,
    DeliveryStatusEvent,
    DeliveryUpdate,
    OutboundMessage,
    OutboundState,
)
from walker_channels.services import (
    DeliveryTracker,
    OutboundSender,
    SendContext,
    SendPurpose,
    SendReceipt,
    ServiceConfig,
)
from walker_channels.testing import (
    FixedClock,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = "+14155552671"
CONFIG = ServiceConfig(pseudonym_key="delivery-test-key")


class Kit:
    """A sender and a tracker sharing one ledger and event store."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.ledger = InMemoryOutboundLedger(self.events)
        self.transport = RecordingTransport(Channel.WHATSAPP)
        self.sender = OutboundSender(
            transports={Channel.WHATSAPP: self.transport},
            ledger=self.ledger,
            clock=self.clock,
            config=CONFIG,
        )
        self.tracker = DeliveryTracker(ledger=self.ledger, events=self.events)

    async def send(self, key: str) -> SendReceipt:
        message = OutboundMessage(
            channel=Channel.WHATSAPP, to=Address(channel=Channel.WHATSAPP, value=PERSON), text="hi"
        )
        purpose, _, cause = key.partition(":")
        context = SendContext(
            purpose=SendPurpose(purpose), cause=cause, tenant_id="t1", session_id="s1"
        )
        return await self.sender.send(message, context)

    def status_events(self) -> list[DeliveryStatusEvent]:
        return [e for e in self.events.events if isinstance(e, DeliveryStatusEvent)]


@pytest.fixture
def kit() -> Kit:
    return Kit()


def update(
    pid: str, status: DeliveryStatus, *, key: str | None = None, code: str | None = None
) -> DeliveryUpdate:
    return DeliveryUpdate(
        channel=Channel.WHATSAPP,
        provider_message_id=pid,
        status=status,
        error_code=code,
        ledger_key=key,
        occurred_at=T0 + timedelta(seconds=5),
    )


async def test_a_status_callback_advances_the_ledger_and_is_recorded(kit: Kit) -> None:
    receipt = await kit.send("reply:SM1")
    assert receipt.provider_message_id is not None

    record = await kit.tracker.apply(update(receipt.provider_message_id, DeliveryStatus.DELIVERED))

    assert record is not None
    assert record.delivery_status is DeliveryStatus.DELIVERED
    [event] = kit.status_events()
    assert event.status is DeliveryStatus.DELIVERED
    assert (event.tenant_id, event.participant) == ("t1", CONFIG.pseudonym(PERSON))
    assert PERSON not in event.model_dump_json()


async def test_a_late_earlier_status_changes_nothing_and_records_nothing(kit: Kit) -> None:
    receipt = await kit.send("reply:SM2")
    pid = receipt.provider_message_id
    assert pid is not None
    await kit.tracker.apply(update(pid, DeliveryStatus.READ))

    assert await kit.tracker.apply(update(pid, DeliveryStatus.DELIVERED)) is None
    assert await kit.tracker.apply(update(pid, DeliveryStatus.SENT)) is None

    record = await kit.ledger.get("reply:SM2")
    assert record is not None
    assert record.delivery_status is DeliveryStatus.READ
    assert [e.status for e in kit.status_events()] == [DeliveryStatus.READ]


async def test_a_repeated_callback_is_recorded_once(kit: Kit) -> None:
    receipt = await kit.send("reply:SM3")
    assert receipt.provider_message_id is not None
    failed = update(receipt.provider_message_id, DeliveryStatus.UNDELIVERED, code="30007")

    await kit.tracker.apply(failed)
    await kit.tracker.apply(failed)

    [event] = kit.status_events()
    assert event.error_code == "30007"


async def test_an_unknown_outcome_is_settled_by_the_callback_carrying_its_key(kit: Kit) -> None:
    kit.transport.fail_with(DeliveryUnknown("timed out after the request was sent"))
    receipt = await kit.send("reply:SM4")
    assert receipt.state is OutboundState.UNKNOWN

    record = await kit.tracker.apply(update("SM" + "f" * 32, DeliveryStatus.SENT, key="reply:SM4"))

    assert record is not None
    assert record.state is OutboundState.SENT
    assert record.provider_message_id == "SM" + "f" * 32
    assert len(kit.status_events()) == 1


async def test_a_callback_for_a_message_we_never_sent_is_ignored(kit: Kit) -> None:
    assert await kit.tracker.apply(update("SM" + "0" * 32, DeliveryStatus.DELIVERED)) is None
    assert kit.events.events == []
