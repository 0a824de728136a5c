"""Channels are data: an open name, and the rules each channel's spec carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from walker_channels.channels import DEFAULT_SERVICE_WINDOWS, ChannelSpec
from walker_channels.exceptions import OutsideServiceWindow
from walker_channels.models import Address, Channel, InboundEvent, OutboundState
from walker_channels.phones import parse_address, receiving_address
from walker_channels.services import OutboundSender, ProactiveSender, ServiceConfig
from walker_channels.testing import (
    FixedClock,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONFIG = ServiceConfig(pseudonym_key="channels-test-key")
PAGER = Channel.define("pager")


def test_a_channel_is_its_name_and_a_defined_one_is_returned_itself() -> None:
    assert Channel("whatsapp") is Channel.WHATSAPP
    assert Channel("pager") is PAGER
    assert Channel.SMS == "sms"
    assert Channel.SMS.value == "sms"
    assert f"{Channel.EMAIL}" == "email"
    assert dict.fromkeys([Channel.WHATSAPP], 1) == {"whatsapp": 1}


def test_a_channel_round_trips_through_json_as_its_name() -> None:
    adapter = TypeAdapter(Address)
    address = Address(channel=PAGER, value="4711")
    assert adapter.dump_json(address) == b'{"channel":"pager","value":"4711"}'
    assert adapter.validate_json(b'{"channel":"pager","value":"4711"}').channel is PAGER


@pytest.mark.parametrize("name", ["", "WhatsApp", "1sms", "a" * 17, "sms ", "pigeon post"])
def test_an_invalid_channel_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="channel name"):
        Channel(name)
    with pytest.raises(ValidationError):
        Address(channel=name, value="x")


def test_a_spec_refuses_a_transport_of_another_channel() -> None:
    with pytest.raises(ValueError, match="sends on sms"):
        ChannelSpec(name=PAGER, transport=RecordingTransport(Channel.SMS), label="Pager")


class Kit:
    """A proactive sender with a pager channel whose window is one hour."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.pager = RecordingTransport(PAGER)
        sender = OutboundSender(
            transports={PAGER: self.pager, Channel.SMS: RecordingTransport(Channel.SMS)},
            ledger=InMemoryOutboundLedger(self.events),
            clock=self.clock,
            config=CONFIG,
            service_windows={**DEFAULT_SERVICE_WINDOWS, PAGER: timedelta(hours=1)},
        )
        self.proactive = ProactiveSender(
            config=CONFIG, events=self.events, sender=sender, clock=self.clock
        )

    async def wrote(self, ago: timedelta) -> None:
        await self.events.append(
            InboundEvent(
                tenant_id="t1",
                channel=PAGER,
                participant=CONFIG.pseudonym("4711"),
                occurred_at=self.clock.now() - ago,
            )
        )

    async def send(self, key: str) -> OutboundState:
        to = Address(channel=PAGER, value="4711")
        receipt = await self.proactive.send(
            tenant_id="t1", to=to, text="Hello again", idempotency_key=key
        )
        return receipt.state


async def test_free_text_goes_out_within_the_channels_own_window() -> None:
    kit = Kit()
    await kit.wrote(timedelta(minutes=59))
    assert await kit.send("k-1") is OutboundState.SENT
    assert [m.text for m in kit.pager.sent] == ["Hello again"]


async def test_free_text_is_refused_once_the_channels_window_closed() -> None:
    kit = Kit()
    await kit.wrote(timedelta(minutes=61))
    with pytest.raises(OutsideServiceWindow, match="pager"):
        await kit.send("k-2")
    assert kit.pager.sent == []


async def test_a_channel_without_a_window_sends_free_text_at_any_time() -> None:
    kit = Kit()
    receipt = await kit.proactive.send(
        tenant_id="t1",
        to=Address(channel=Channel.SMS, value="+14155552671"),
        text="No window on SMS",
        idempotency_key="k-3",
    )
    assert receipt.state is OutboundState.SENT


@pytest.mark.parametrize(
    ("typed", "channel", "value"),
    [
        ("telegram:7000000001", "telegram", "7000000001"),
        ("meta-whatsapp:106540352242922", "meta-whatsapp", "106540352242922"),
        ("whatsapp:+14155238886", "whatsapp", "+14155238886"),
        ("+14155238886", "sms", "+14155238886"),
    ],
)
def test_a_typed_address_names_its_channel(typed: str, channel: str, value: str) -> None:
    for parse in (parse_address, receiving_address):
        address = parse(typed)
        assert (address.channel, address.value) == (channel, value)
