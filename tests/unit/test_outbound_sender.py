"""The outbound sender: one ledger record per idempotency key, reserved before the transport."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from walker_channels.exceptions import (
    ConfigurationError,
    DeliveryUnknown,
    MessageRejected,
    ProviderError,
)
from walker_channels.models import (
    Address,
    Channel,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundMessage,
    OutboundState,
)
from walker_channels.services import OutboundSender, ServiceConfig
from walker_channels.testing import (
    FixedClock,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = "+14155552671"
CONFIG = ServiceConfig(pseudonym_key="sender-test-key")


class Kit:
    """A sender over the in-memory ledger, event store and a recording WhatsApp transport."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.ledger = InMemoryOutboundLedger()
        self.events = InMemoryEventStore()
        self.transport = RecordingTransport(Channel.WHATSAPP)
        self.sender = OutboundSender(
            transports={Channel.WHATSAPP: self.transport},
            ledger=self.ledger,
            events=self.events,
            clock=self.clock,
            config=CONFIG,
        )


@pytest.fixture
def kit() -> Kit:
    return Kit()


def hello(text: str = "Hello!") -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.WHATSAPP, to=Address(channel=Channel.WHATSAPP, value=PERSON), text=text
    )


def assert_no_raw_number(kit: Kit) -> None:
    for event in kit.events.events:
        dumped = event.model_dump_json()
        assert PERSON not in dumped
        assert PERSON.lstrip("+") not in dumped


async def test_a_send_is_recorded_with_its_context(kit: Kit) -> None:
    receipt = await kit.sender.send(
        hello(),
        key="reply:SM1",
        tenant_id="t1",
        agent_id="support",
        confidence=0.9,
        response_time_ms=1200.0,
        session_id="s1",
    )

    assert receipt.state is OutboundState.SENT
    assert not receipt.duplicate
    assert len(kit.transport.sent) == 1
    [event] = kit.events.events
    assert isinstance(event, OutboundEvent)
    assert (event.tenant_id, event.agent_id, event.confidence) == ("t1", "support", 0.9)
    assert (event.response_time_ms, event.session_id, event.hitl) == (1200.0, "s1", False)
    assert event.provider_message_id == receipt.provider_message_id
    assert event.participant == CONFIG.pseudonym(PERSON)
    record = await kit.ledger.get("reply:SM1")
    assert record is not None
    assert record.state is OutboundState.SENT
    assert record.provider_message_id == receipt.provider_message_id
    assert_no_raw_number(kit)


async def test_the_transport_receives_the_ledger_key_for_its_status_callback(kit: Kit) -> None:
    await kit.sender.send(hello(), key="approval:a1", tenant_id="t1")

    assert kit.transport.sent[0].idempotency_key == "approval:a1"


async def test_a_retried_send_with_the_same_key_reaches_the_transport_once(kit: Kit) -> None:
    first = await kit.sender.send(hello(), key="proactive:k", tenant_id="t1")
    second = await kit.sender.send(hello(), key="proactive:k", tenant_id="t1")

    assert len(kit.transport.sent) == 1
    assert second.duplicate
    assert second.state is OutboundState.SENT
    assert second.provider_message_id == first.provider_message_id
    assert len(kit.events.events) == 1


async def test_concurrent_sends_with_one_key_reach_the_transport_once(kit: Kit) -> None:
    receipts = await asyncio.gather(
        *(kit.sender.send(hello(), key="reply:SM2", tenant_id="t1") for _ in range(10))
    )

    assert len(kit.transport.sent) == 1
    assert sum(not receipt.duplicate for receipt in receipts) == 1


async def test_a_provider_refusal_records_outbound_failed_with_its_code(kit: Kit) -> None:
    kit.transport.fail_with(ProviderError("the recipient opted out", retryable=False, code="21610"))

    receipt = await kit.sender.send(hello(), key="reply:SM3", tenant_id="t1", agent_id="support")

    assert receipt.state is OutboundState.FAILED
    assert receipt.error_code == "21610"
    [event] = kit.events.events
    assert isinstance(event, OutboundFailedEvent)
    assert (event.error_code, event.retryable, event.outcome_unknown) == ("21610", False, False)
    assert event.agent_id == "support"
    record = await kit.ledger.get("reply:SM3")
    assert record is not None
    assert (record.state, record.error_code) == (OutboundState.FAILED, "21610")
    assert_no_raw_number(kit)


async def test_a_failed_key_is_not_sent_again(kit: Kit) -> None:
    kit.transport.fail_with(ProviderError("server error", retryable=True, code="20500"))
    await kit.sender.send(hello(), key="reply:SM4", tenant_id="t1")

    again = await kit.sender.send(hello(), key="reply:SM4", tenant_id="t1")

    assert again.duplicate
    assert again.state is OutboundState.FAILED
    assert kit.transport.sent == []


async def test_an_unknown_outcome_is_marked_unknown_not_failed(kit: Kit) -> None:
    kit.transport.fail_with(DeliveryUnknown("the connection dropped after the request was sent"))

    receipt = await kit.sender.send(hello(), key="reply:SM5", tenant_id="t1")

    assert receipt.state is OutboundState.UNKNOWN
    record = await kit.ledger.get("reply:SM5")
    assert record is not None
    assert record.state is OutboundState.UNKNOWN
    [event] = kit.events.events
    assert isinstance(event, OutboundFailedEvent)
    assert event.outcome_unknown


async def test_a_message_refused_before_sending_is_recorded_and_raised(kit: Kit) -> None:
    kit.transport.fail_with(MessageRejected("the body is longer than 1600 characters"))

    with pytest.raises(MessageRejected):
        await kit.sender.send(hello("x" * 1700), key="proactive:long", tenant_id="t1")

    record = await kit.ledger.get("proactive:long")
    assert record is not None
    assert record.state is OutboundState.FAILED
    [event] = kit.events.events
    assert isinstance(event, OutboundFailedEvent)
    assert "1600" in event.error_message


async def test_a_channel_without_a_transport_is_a_configuration_error(kit: Kit) -> None:
    sms = OutboundMessage(
        channel=Channel.SMS, to=Address(channel=Channel.SMS, value=PERSON), text="x"
    )

    with pytest.raises(ConfigurationError, match="sms"):
        await kit.sender.send(sms, key="reply:SM6", tenant_id="t1")

    assert await kit.ledger.get("reply:SM6") is None


def test_a_transport_registered_for_the_wrong_channel_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="sends on sms"):
        OutboundSender(
            transports={Channel.WHATSAPP: RecordingTransport(Channel.SMS)},
            ledger=InMemoryOutboundLedger(),
            events=InMemoryEventStore(),
            clock=FixedClock(T0),
            config=CONFIG,
        )
