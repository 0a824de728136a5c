"""The outbound sender: one ledger record per idempotency key, reserved before the transport."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

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
from walker_channels.services import OutboundSender, SendContext, SendPurpose, ServiceConfig
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
        self.events = InMemoryEventStore()
        self.ledger = InMemoryOutboundLedger(self.events)
        self.transport = RecordingTransport(Channel.WHATSAPP)
        self.sender = OutboundSender(
            transports={Channel.WHATSAPP: self.transport},
            ledger=self.ledger,
            clock=self.clock,
            config=CONFIG,
        )


@pytest.fixture
def kit() -> Kit:
    return Kit()


def reply(cause: str, **fields: Any) -> SendContext:
    """The context of the agent's reply to the message ``cause`` for tenant t1."""
    return SendContext(purpose=SendPurpose.REPLY, cause=cause, tenant_id="t1", **fields)


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
        reply("SM1", agent_id="support", confidence=0.9, response_time_ms=1200.0, session_id="s1"),
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
    approved = SendContext(purpose=SendPurpose.APPROVED, cause="a1", tenant_id="t1")
    await kit.sender.send(hello(), approved)

    assert kit.transport.sent[0].idempotency_key == "approval:a1"


async def test_a_retried_send_with_the_same_key_reaches_the_transport_once(kit: Kit) -> None:
    proactive = SendContext(purpose=SendPurpose.PROACTIVE, cause="k", tenant_id="t1")
    first = await kit.sender.send(hello(), proactive)
    second = await kit.sender.send(hello(), proactive)

    assert len(kit.transport.sent) == 1
    assert second.duplicate
    assert second.state is OutboundState.SENT
    assert second.provider_message_id == first.provider_message_id
    assert len(kit.events.events) == 1


async def test_concurrent_sends_with_one_key_reach_the_transport_once(kit: Kit) -> None:
    receipts = await asyncio.gather(*(kit.sender.send(hello(), reply("SM2")) for _ in range(10)))

    assert len(kit.transport.sent) == 1
    assert sum(not receipt.duplicate for receipt in receipts) == 1


async def test_a_provider_refusal_records_outbound_failed_with_its_code(kit: Kit) -> None:
    kit.transport.fail_with(ProviderError("the recipient opted out", retryable=False, code="21610"))

    receipt = await kit.sender.send(hello(), reply("SM3", agent_id="support"))

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


async def test_a_key_the_provider_refused_may_be_sent_again_once(kit: Kit) -> None:
    # A refusal means nothing went out, so trying again under the same key is safe.
    kit.transport.fail_with(ProviderError("server error", retryable=True, code="20500"))
    failed = await kit.sender.send(hello(), reply("SM4"))

    again = await kit.sender.send(hello(), reply("SM4"))
    third = await kit.sender.send(hello(), reply("SM4"))

    assert failed.state is OutboundState.FAILED
    assert (again.state, again.duplicate) == (OutboundState.SENT, False)
    assert (third.state, third.duplicate) == (OutboundState.SENT, True)
    assert len(kit.transport.sent) == 1


async def test_a_key_whose_outcome_is_unknown_is_not_sent_again(kit: Kit) -> None:
    kit.transport.fail_with(DeliveryUnknown("the connection dropped after the request was sent"))
    await kit.sender.send(hello(), reply("SM7"))

    again = await kit.sender.send(hello(), reply("SM7"))

    assert again.duplicate
    assert again.state is OutboundState.UNKNOWN
    assert kit.transport.sent == []


async def test_an_unexpected_transport_exception_is_recorded_as_unknown(kit: Kit) -> None:
    kit.transport.fail_with(RecursionError("a pathological provider body"))

    receipt = await kit.sender.send(hello(), reply("SM8"))

    assert receipt.state is OutboundState.UNKNOWN
    [event] = kit.events.events
    assert isinstance(event, OutboundFailedEvent)
    assert event.outcome_unknown
    assert "RecursionError" in event.error_message


async def test_an_unknown_outcome_is_marked_unknown_not_failed(kit: Kit) -> None:
    kit.transport.fail_with(DeliveryUnknown("the connection dropped after the request was sent"))

    receipt = await kit.sender.send(hello(), reply("SM5"))

    assert receipt.state is OutboundState.UNKNOWN
    record = await kit.ledger.get("reply:SM5")
    assert record is not None
    assert record.state is OutboundState.UNKNOWN
    [event] = kit.events.events
    assert isinstance(event, OutboundFailedEvent)
    assert event.outcome_unknown


async def test_a_message_refused_before_sending_is_recorded_and_raised(kit: Kit) -> None:
    kit.transport.fail_with(MessageRejected("the body is longer than 1600 characters"))

    proactive = SendContext(purpose=SendPurpose.PROACTIVE, cause="long", tenant_id="t1")
    with pytest.raises(MessageRejected):
        await kit.sender.send(hello("x" * 1700), proactive)

    record = await kit.ledger.get(proactive.key)
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
        await kit.sender.send(sms, reply("SM6"))

    assert await kit.ledger.get("reply:SM6") is None


def test_a_transport_registered_for_the_wrong_channel_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="sends on sms"):
        OutboundSender(
            transports={Channel.WHATSAPP: RecordingTransport(Channel.SMS)},
            ledger=InMemoryOutboundLedger(),
            clock=FixedClock(T0),
            config=CONFIG,
        )
