"""Crash safety of the one sender against the Twilio-like loopback server: every failure after
the reservation is recorded, unknown outcomes are settled by looking the send up, and nothing
is ever lost silently or sent twice."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from walker_channels.exceptions import StoreError
from walker_channels.models import (
    Address,
    Channel,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundMessage,
    OutboundState,
    Settlement,
)
from walker_channels.ports import MessageTransport
from walker_channels.services import OutboundSender, SendContext, SendPurpose, ServiceConfig
from walker_channels.testing import FixedClock, InMemoryEventStore, InMemoryOutboundLedger
from walker_channels.testing.twilio_server import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TwilioLikeServer,
    dropped,
    lost,
)
from walker_channels.twilio import RetrySettings, TwilioConfig, TwilioTransport

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = "+14155552671"
BUSINESS = "+14155550100"
CONFIG = ServiceConfig(pseudonym_key="recovery-test-key")


class Kit:
    """A sender over the in-memory ledger and the real Twilio transport to a loopback server."""

    def __init__(self, server: TwilioLikeServer, transport: MessageTransport) -> None:
        self.server = server
        self.clock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.ledger = InMemoryOutboundLedger(self.events)
        self.sender = OutboundSender(
            transports={Channel.SMS: transport},
            ledger=self.ledger,
            clock=self.clock,
            config=CONFIG,
        )

    def delivered(self) -> list[str | None]:
        """The bodies the loopback server took, in order."""
        return [message.body for message in self.server.simulator.messages]

    def events_of(self, kind: type[object]) -> list[object]:
        return [event for event in self.events.events if isinstance(event, kind)]


@pytest.fixture
async def kit(twilio_http_client: str) -> AsyncIterator[Kit]:
    async with TwilioLikeServer(clock=FixedClock(T0)) as server:
        config = TwilioConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            api_base_url=server.base_url,
            sender=BUSINESS,
            channel=Channel.SMS,
            retry=RetrySettings(attempts=1),
            http_client=twilio_http_client,
        )
        async with TwilioTransport(config) as transport:
            yield Kit(server, transport)


def text(body: str = "Your order shipped") -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.SMS, to=Address(channel=Channel.SMS, value=PERSON), text=body
    )


def approved(cause: str = "a1") -> SendContext:
    return SendContext(purpose=SendPurpose.APPROVED, cause=cause, tenant_id="t1", hitl=True)


async def sweep_later(kit: Kit) -> int:
    """Move past the lookup delay and run one sweep."""
    kit.clock.advance(timedelta(minutes=2))
    return await kit.sender.settle_due()


async def test_a_dropped_answer_is_settled_as_sent_by_the_lookup_and_not_sent_again(
    kit: Kit,
) -> None:
    kit.server.script(dropped())
    receipt = await kit.sender.send(text(), approved())
    assert receipt.state is OutboundState.UNKNOWN

    assert await sweep_later(kit) == 1

    record = kit.ledger.records[receipt.key]
    [message] = kit.server.simulator.messages
    assert (record.state, record.provider_message_id) == (OutboundState.SENT, message.sid)
    assert record.payload is None
    assert kit.delivered() == ["Your order shipped"]
    assert len(kit.events_of(OutboundEvent)) == 1


async def test_a_request_lost_before_twilio_took_it_is_sent_once_after_the_lookup(
    kit: Kit,
) -> None:
    kit.server.script(lost())
    receipt = await kit.sender.send(text(), approved())
    assert receipt.state is OutboundState.UNKNOWN
    assert kit.delivered() == []

    await sweep_later(kit)
    await sweep_later(kit)

    assert kit.delivered() == ["Your order shipped"]
    assert kit.ledger.records[receipt.key].state is OutboundState.SENT


async def test_an_unexpected_exception_after_the_reservation_is_recorded_as_unknown(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = kit.sender._transports[Channel.SMS]

    async def pathological(message: OutboundMessage) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(transport, "send", pathological)
    receipt = await kit.sender.send(text(), approved())

    assert receipt.state is OutboundState.UNKNOWN
    [failed] = kit.events_of(OutboundFailedEvent)
    assert isinstance(failed, OutboundFailedEvent)
    assert failed.outcome_unknown
    monkeypatch.undo()
    await sweep_later(kit)
    assert kit.delivered() == ["Your order shipped"]  # not found at Twilio: sent once


class CrashingLedger(InMemoryOutboundLedger):
    """A ledger whose settlements fail, as if the process died right after the provider call."""

    async def settle(self, key: str, settlement: Settlement, *, event: object = None) -> bool:
        raise StoreError("the database went away")


async def test_a_crash_between_send_and_settle_is_recovered_as_unknown_then_found(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    crashing = CrashingLedger(kit.events)
    sender = OutboundSender(
        transports=kit.sender._transports,
        ledger=crashing,
        clock=kit.clock,
        config=CONFIG,
    )
    with pytest.raises(StoreError):
        await sender.send(text(), approved())
    kit.ledger.records.update(crashing.records)  # what the database kept: a pending row
    key = approved().key
    assert kit.ledger.records[key].state is OutboundState.PENDING

    with caplog.at_level(logging.WARNING):
        recovered = await kit.sender.recover(key)
    assert recovered is not None
    assert recovered.state is OutboundState.UNKNOWN
    assert "left pending" in caplog.text
    [failed] = kit.events_of(OutboundFailedEvent)
    assert isinstance(failed, OutboundFailedEvent)
    assert failed.outcome_unknown

    await sweep_later(kit)
    assert kit.ledger.records[key].state is OutboundState.SENT
    assert kit.delivered() == ["Your order shipped"]  # once: found, not resent


async def test_a_stale_pending_record_is_found_by_the_sweep(kit: Kit) -> None:
    crashing = CrashingLedger(kit.events)
    crashing.records = kit.ledger.records  # one database
    sender = OutboundSender(
        transports=kit.sender._transports,
        ledger=crashing,
        clock=kit.clock,
        config=CONFIG,
    )
    with pytest.raises(StoreError):
        await sender.send(text(), approved())

    kit.clock.advance(timedelta(minutes=20))
    await kit.sender.settle_due()  # pending -> unknown
    await sweep_later(kit)  # unknown -> found

    assert kit.ledger.records[approved().key].state is OutboundState.SENT
    assert kit.delivered() == ["Your order shipped"]


async def test_a_retryable_failure_of_an_approved_send_is_retried_with_backoff(kit: Kit) -> None:
    from walker_channels.testing.twilio_server import twilio_error

    kit.server.script(twilio_error(503, 20503), twilio_error(503, 20503))
    receipt = await kit.sender.send(text(), approved())
    record = kit.ledger.records[receipt.key]
    assert record.state is OutboundState.FAILED
    assert record.next_attempt_at == T0 + timedelta(seconds=30)

    kit.clock.advance(timedelta(seconds=30))
    await kit.sender.settle_due()
    second = kit.ledger.records[receipt.key]
    assert (second.state, second.attempts) == (OutboundState.FAILED, 2)
    assert second.next_attempt_at == kit.clock.now() + timedelta(seconds=60)

    kit.clock.advance(timedelta(seconds=60))
    await kit.sender.settle_due()
    assert kit.ledger.records[receipt.key].state is OutboundState.SENT
    assert kit.delivered() == ["Your order shipped"]


async def test_the_message_list_is_paged_and_filtered_as_twilio_documents(kit: Kit) -> None:
    for n in range(120):
        await kit.sender.send(text(f"note {n}"), approved(f"a{n}"))
    kit.server.script(dropped())
    receipt = await kit.sender.send(text("note 7"), approved("twin"))
    assert receipt.state is OutboundState.UNKNOWN

    await sweep_later(kit)

    # Two messages say "note 7" to the same person since the reservation: an operator decides.
    record = kit.ledger.records[receipt.key]
    assert record.state is OutboundState.UNKNOWN
    assert record.next_attempt_at is None
    assert kit.delivered().count("note 7") == 2
    lists = [r for r in kit.server.received if r.method == "GET"]
    assert len(lists) == 2  # 122 messages in pages of 100
    assert "DateSent%3E=2026-03-02" in lists[0].path
