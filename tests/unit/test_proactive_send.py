"""Proactive sends: once per caller key, and WhatsApp free text only within 24 hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walker_channels.exceptions import InvalidInput, OutsideServiceWindow
from walker_channels.models import (
    Address,
    Channel,
    InboundEvent,
    Media,
    OutboundState,
    WhatsAppTemplate,
)
from walker_channels.services import OutboundSender, ProactiveSender, ServiceConfig
from walker_channels.testing import (
    FixedClock,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = "+14155552671"
WA = Address(channel=Channel.WHATSAPP, value=PERSON)
CONFIG = ServiceConfig(pseudonym_key="proactive-test-key")
TEMPLATE = WhatsAppTemplate(content_sid="HX" + "a" * 32, variables={"1": "Friday"})


class Kit:
    """A proactive sender over in-memory stores and recording transports."""

    def __init__(self) -> None:
        self.clock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.ledger = InMemoryOutboundLedger(self.events)
        self.whatsapp = RecordingTransport(Channel.WHATSAPP)
        self.sms = RecordingTransport(Channel.SMS)
        sender = OutboundSender(
            transports={Channel.WHATSAPP: self.whatsapp, Channel.SMS: self.sms},
            ledger=self.ledger,
            clock=self.clock,
            config=CONFIG,
        )
        self.proactive = ProactiveSender(
            config=CONFIG, events=self.events, sender=sender, clock=self.clock
        )

    async def person_wrote(self, ago: timedelta, *, tenant: str = "t1") -> None:
        await self.events.append(
            InboundEvent(
                tenant_id=tenant,
                channel=Channel.WHATSAPP,
                participant=CONFIG.pseudonym(PERSON),
                occurred_at=self.clock.now() - ago,
            )
        )


@pytest.fixture
def kit() -> Kit:
    return Kit()


async def test_free_text_within_24_hours_of_the_last_message_is_sent(kit: Kit) -> None:
    await kit.person_wrote(timedelta(hours=23))

    receipt = await kit.proactive.send(
        tenant_id="t1", to=WA, text="Your order shipped.", idempotency_key="o-1"
    )

    assert receipt.state is OutboundState.SENT
    assert [m.text for m in kit.whatsapp.sent] == ["Your order shipped."]


@pytest.mark.parametrize("ago", [None, timedelta(hours=24), timedelta(days=3)])
async def test_free_text_or_media_outside_the_window_is_refused_before_sending(
    kit: Kit, ago: timedelta | None
) -> None:
    if ago is not None:
        await kit.person_wrote(ago)

    with pytest.raises(OutsideServiceWindow, match="ContentSid") as refused:
        await kit.proactive.send(tenant_id="t1", to=WA, text="Hi!", idempotency_key="o-2")
    media = (Media(url="https://example.com/a.png"),)
    with pytest.raises(OutsideServiceWindow):
        await kit.proactive.send(tenant_id="t1", to=WA, media=media, idempotency_key="o-3")

    assert PERSON.lstrip("+") not in str(refused.value)
    assert kit.whatsapp.sent == []
    assert kit.ledger.records == {}


async def test_an_approved_template_may_be_sent_at_any_time(kit: Kit) -> None:
    receipt = await kit.proactive.send(
        tenant_id="t1", to=WA, template=TEMPLATE, idempotency_key="o-4"
    )

    assert receipt.state is OutboundState.SENT
    [sent] = kit.whatsapp.sent
    assert (sent.template, sent.text) == (TEMPLATE, None)


async def test_the_window_is_per_tenant(kit: Kit) -> None:
    await kit.person_wrote(timedelta(hours=1), tenant="t2")

    with pytest.raises(OutsideServiceWindow):
        await kit.proactive.send(tenant_id="t1", to=WA, text="Hi!", idempotency_key="o-5")


async def test_sms_has_no_service_window(kit: Kit) -> None:
    sms = Address(channel=Channel.SMS, value=PERSON)

    await kit.proactive.send(
        tenant_id="t1", to=sms, text="Reminder: Friday.", idempotency_key="o-6"
    )

    assert [m.text for m in kit.sms.sent] == ["Reminder: Friday."]


async def test_a_repeated_key_sends_once_per_tenant(kit: Kit) -> None:
    first = await kit.proactive.send(tenant_id="t1", to=WA, template=TEMPLATE, idempotency_key="k")
    again = await kit.proactive.send(tenant_id="t1", to=WA, template=TEMPLATE, idempotency_key="k")
    other = await kit.proactive.send(tenant_id="t2", to=WA, template=TEMPLATE, idempotency_key="k")

    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    assert len(kit.whatsapp.sent) == 2


async def test_a_callers_key_never_reaches_the_ledger_verbatim(kit: Kit) -> None:
    receipt = await kit.proactive.send(
        tenant_id="t1", to=WA, template=TEMPLATE, idempotency_key=f"welcome-{PERSON}"
    )

    assert receipt.key.startswith("proactive:t1:")
    assert PERSON.lstrip("+") not in receipt.key
    for event in kit.events.events:
        assert PERSON.lstrip("+") not in event.model_dump_json()


@pytest.mark.parametrize(
    ("to", "text", "template", "match"),
    [
        (WA, "Hi", TEMPLATE, "template"),
        (WA, None, None, "needs text"),
        (Address(channel=Channel.EMAIL, value="a@example.com"), "Hi", None, "email"),
    ],
)
async def test_an_unusable_message_is_invalid_input_that_names_the_fix(
    kit: Kit, to: Address, text: str | None, template: WhatsAppTemplate | None, match: str
) -> None:
    with pytest.raises(InvalidInput, match=match) as refused:
        await kit.proactive.send(
            tenant_id="t1", to=to, text=text, template=template, idempotency_key="o-7"
        )

    assert PERSON.lstrip("+") not in str(refused.value)
    assert kit.ledger.records == {}


async def test_a_content_template_goes_out_on_sms_too(kit: Kit) -> None:
    sms = Address(channel=Channel.SMS, value=PERSON)

    receipt = await kit.proactive.send(
        tenant_id="t1", to=sms, template=TEMPLATE, idempotency_key="o-8"
    )

    assert receipt.state is OutboundState.SENT
    assert kit.sms.sent[0].template == TEMPLATE


async def test_an_idempotency_key_is_required(kit: Kit) -> None:
    with pytest.raises(InvalidInput, match="idempotency key"):
        await kit.proactive.send(tenant_id="t1", to=WA, template=TEMPLATE, idempotency_key=" ")
