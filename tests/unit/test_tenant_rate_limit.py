"""The per-tenant rate limit (``WALKER_RATE_PER_TENANT``): each tenant's sends, on every
channel, wait for their turn just before the transport is called; other tenants' do not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from walker_channels.agents import echo_agent
from walker_channels.app import Settings, build_services
from walker_channels.exceptions import ConfigurationError
from walker_channels.models import Address, Channel, OutboundMessage, OutboundState
from walker_channels.services import OutboundSender, SendContext, SendPurpose, ServiceConfig
from walker_channels.testing import FixedClock, InMemoryOutboundLedger, RecordingTransport
from walker_channels.twilio.pacing import TENANT_NAMESPACE, SenderPacer, pacer_for

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = Address(channel=Channel.WHATSAPP, value="+14155552671")


class StoppedTime:
    """A pacer's clock and sleep: time moves only when the pacer sleeps, and waits are kept."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))


def sender_with(pacer: SenderPacer | None, transport: RecordingTransport) -> OutboundSender:
    return OutboundSender(
        transports={Channel.WHATSAPP: transport},
        ledger=InMemoryOutboundLedger(),
        clock=FixedClock(T0),
        config=ServiceConfig(pseudonym_key="tenant-limit-test-key"),
        tenant_pacer=pacer,
    )


def proactive(tenant: str | None, n: int) -> tuple[OutboundMessage, SendContext]:
    message = OutboundMessage(channel=Channel.WHATSAPP, to=PERSON, text=f"update {n}")
    purpose = SendPurpose.PROACTIVE if tenant else SendPurpose.NOTICE
    return message, SendContext(purpose=purpose, cause=f"cause-{n}", tenant_id=tenant)


async def test_a_tenants_sends_are_spaced_at_its_rate_and_other_tenants_do_not_wait() -> None:
    time = StoppedTime()
    transport = RecordingTransport(Channel.WHATSAPP)
    sender = sender_with(SenderPacer(2, clock=time.clock, sleep=time.sleep), transport)

    for n in range(3):
        await sender.send(*proactive("acme", n))
    await sender.send(*proactive("globex", 3))
    await sender.send(*proactive(None, 4))  # a notice to a number no tenant owns

    # acme's second and third sends wait 0.5 s and 1 s; globex and the notice go at once.
    assert time.waits == [0.5, 1.0]
    assert len(transport.sent) == 5


async def test_a_duplicate_send_does_not_take_a_turn() -> None:
    time = StoppedTime()
    transport = RecordingTransport(Channel.WHATSAPP)
    sender = sender_with(SenderPacer(1, clock=time.clock, sleep=time.sleep), transport)

    first = await sender.send(*proactive("acme", 1))
    again = await sender.send(*proactive("acme", 1))

    assert (first.state, again.duplicate) == (OutboundState.SENT, True)
    assert time.waits == []
    assert len(transport.sent) == 1


async def test_an_unreachable_shared_store_fails_the_send_as_retryable_before_sending() -> None:
    transport = RecordingTransport(Channel.WHATSAPP)
    pacer = pacer_for(1, "redis://127.0.0.1:1/0", namespace=TENANT_NAMESPACE)
    sender = OutboundSender(
        transports={Channel.WHATSAPP: transport},
        ledger=InMemoryOutboundLedger(),
        clock=FixedClock(T0),
        config=ServiceConfig(pseudonym_key="tenant-limit-test-key"),
        tenant_pacer=pacer,
    )
    try:
        receipt = await sender.send(*proactive("acme", 1))
    finally:
        await pacer.aclose()

    assert (receipt.state, receipt.retryable) == (OutboundState.FAILED, True)
    assert transport.sent == []


def test_a_storage_that_is_not_redis_is_refused_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings(
        walker_database_url=f"sqlite+aiosqlite:///{tmp_path / 'walker.db'}",
        walker_pseudonym_key="tenant-limit-test-key",
        walker_rate_per_tenant=5,
        walker_rate_limit_storage="memcached://127.0.0.1:11211",
    )

    with pytest.raises(ConfigurationError, match="WALKER_RATE_LIMIT_STORAGE"):
        build_services(
            settings, agent=echo_agent(), whatsapp_transport=RecordingTransport(Channel.WHATSAPP)
        )


def test_the_per_tenant_rate_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALKER_RATE_PER_TENANT", "0.5")

    assert Settings().walker_rate_per_tenant == 0.5
