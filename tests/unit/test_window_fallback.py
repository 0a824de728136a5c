"""Outside the service window: a tenant's fallback template goes out instead of a refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.exceptions import OutsideServiceWindow
from walker_channels.models import (
    Address,
    Channel,
    FallbackTemplate,
    OutboundEvent,
    OutboundState,
    Scope,
    TenantSettings,
    WhatsAppTemplate,
)
from walker_channels.services import ProcessOutcome
from walker_channels.testing import FixedClock, InMemoryStores, RecordingTransport
from walker_channels.twilio import parse_inbound_form

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT, NUMBER, PERSON = "t1", "+14155550100", "+14155552671"
WA = Address(channel=Channel.WHATSAPP, value=PERSON)
EVERYONE = Scope(tenant_ids=None)
FALLBACK = FallbackTemplate(
    content_sid="HX" + "b" * 32,
    variables={"1": "{last_message_date}", "2": "{text}", "3": "Reply to continue"},
)


class Kit:
    """Services over in-memory stores; the agent is unsure, so every answer is a draft."""

    def __init__(self) -> None:
        self.stores = InMemoryStores()
        self.clock = FixedClock(T0)
        self.whatsapp = RecordingTransport(Channel.WHATSAPP)
        self.services: Services = build_services(
            Settings(walker_pseudonym_key="window-test-key", walker_sweep_interval=0),
            stores=self.stores,
            clock=self.clock,
            agent=echo_agent(confidence=0.1),
            whatsapp_transport=self.whatsapp,
        )
        self.stores.add_number(TENANT, f"whatsapp:{NUMBER}")

    async def write(self, text: str) -> ProcessOutcome | None:
        form = {
            "MessageSid": "SM" + "c" * 32,
            "From": f"whatsapp:{PERSON}",
            "To": f"whatsapp:{NUMBER}",
            "Body": text,
        }
        message = parse_inbound_form(form, received_at=self.clock.now())
        return (await self.services.conversations.handle(message)).processed

    async def give_fallback(self) -> None:
        await self.stores.tenant_settings.save(
            TenantSettings(tenant_id=TENANT, fallback_template=FALLBACK)
        )

    def last_outbound(self) -> OutboundEvent:
        sent = [e for e in self.stores.events.events if isinstance(e, OutboundEvent)]
        return sent[-1]


@pytest.fixture
async def kit() -> AsyncIterator[Kit]:
    kit = Kit()
    await kit.services.start()
    yield kit
    await kit.services.close()


async def test_a_proactive_send_after_the_window_sends_the_filled_in_fallback(kit: Kit) -> None:
    await kit.write("hello")
    kit.clock.advance(timedelta(hours=30))
    await kit.give_fallback()

    receipt = await kit.services.proactive.send(
        tenant_id=TENANT, to=WA, text="Your order shipped.", idempotency_key="o-1"
    )

    assert (receipt.state, receipt.fallback_template) == (OutboundState.SENT, True)
    sent = kit.whatsapp.sent[-1]
    assert sent.text is None
    assert sent.template == WhatsAppTemplate(
        content_sid=FALLBACK.content_sid,
        variables={"1": "2026-03-02", "2": "Your order shipped.", "3": "Reply to continue"},
    )
    event = kit.last_outbound()
    assert (event.data["template"], event.data["fallback_template"]) == (
        FALLBACK.content_sid,
        True,
    )


async def test_within_the_window_the_text_goes_out_as_asked(kit: Kit) -> None:
    await kit.write("hello")
    await kit.give_fallback()

    receipt = await kit.services.proactive.send(
        tenant_id=TENANT, to=WA, text="Your order shipped.", idempotency_key="o-1"
    )

    assert receipt.fallback_template is False
    assert kit.whatsapp.sent[-1].text == "Your order shipped."


async def test_without_a_fallback_the_send_is_still_refused(kit: Kit) -> None:
    await kit.write("hello")
    kit.clock.advance(timedelta(hours=30))

    with pytest.raises(OutsideServiceWindow):
        await kit.services.proactive.send(
            tenant_id=TENANT, to=WA, text="Your order shipped.", idempotency_key="o-1"
        )


async def test_an_approval_after_the_window_sends_the_fallback_with_the_draft(kit: Kit) -> None:
    assert await kit.write("where is my order?") is ProcessOutcome.ESCALATED
    [draft] = await kit.stores.approvals.list_pending(EVERYONE)
    kit.clock.advance(timedelta(hours=25))
    await kit.give_fallback()

    outcome = await kit.services.review.approve(draft.id, scope=EVERYONE, reviewer="rev")

    assert outcome.receipt is not None
    assert outcome.receipt.fallback_template
    template = kit.whatsapp.sent[-1].template
    assert template is not None
    assert template.variables["2"] == "Echo: where is my order?"
    assert kit.last_outbound().data["fallback_template"] is True


async def test_an_approval_after_the_window_without_a_fallback_is_refused_and_stays_pending(
    kit: Kit,
) -> None:
    await kit.write("where is my order?")
    [draft] = await kit.stores.approvals.list_pending(EVERYONE)
    kit.clock.advance(timedelta(hours=25))

    with pytest.raises(OutsideServiceWindow):
        await kit.services.review.approve(draft.id, scope=EVERYONE, reviewer="rev")
    assert [a.id for a in await kit.stores.approvals.list_pending(EVERYONE)] == [draft.id]


def test_a_fallback_may_name_only_the_known_placeholders() -> None:
    with pytest.raises(ValueError, match="placeholders"):
        FallbackTemplate(content_sid=FALLBACK.content_sid, variables={"1": "{person.number}"})
