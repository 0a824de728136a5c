"""Opt-out and consent: keywords, the suppression list in the flows, 21610, and the stats.

The services are the ones ``build_services`` wires, over the in-memory store set, a fixed
clock and recording transports; inbound messages are parsed from Twilio's webhook form.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.consent import DEFAULT_KEYWORDS, consent_action, tenant_keywords
from walker_channels.exceptions import OptedOut, ProviderError, RecipientOptedOut, TransportError
from walker_channels.models import (
    Address,
    Channel,
    ConsentAction,
    ConsentKeywords,
    ConsentSource,
    ConversationQuery,
    EventType,
    OutboundState,
    Scope,
    StatsQuery,
    TenantSettings,
)
from walker_channels.services import ProcessOutcome
from walker_channels.testing import FixedClock, InMemoryStores, RecordingTransport
from walker_channels.twilio import parse_inbound_form, provider_error

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TENANT, NUMBER, PERSON = "t1", "+14155550100", "+14155552671"
_sids = itertools.count(1)


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("STOP", ConsentAction.STOP),
        ("  stop \n", ConsentAction.STOP),
        ("Unsubscribe", ConsentAction.STOP),
        ("optout", ConsentAction.STOP),
        ("ＳＴＯＰ", ConsentAction.STOP),  # full-width, as some keyboards type it
        ("start", ConsentAction.START),
        ("Yes", ConsentAction.START),
        ("please stop", None),
        ("STOP!", None),
        ("stop it\nnow", None),
        ("help", None),
        ("", None),
    ],
)
def test_keywords_match_the_whole_trimmed_case_folded_message(
    text: str, action: ConsentAction | None
) -> None:
    assert consent_action(text, DEFAULT_KEYWORDS) is action


def test_a_tenants_languages_add_to_the_defaults_and_replace_their_own() -> None:
    settings = TenantSettings(
        tenant_id=TENANT,
        keywords={
            "es": ConsentKeywords(stop=("Baja", " PARAR "), start=("alta",)),
            "en": ConsentKeywords(stop=("STOP",)),
        },
    )
    keywords = tenant_keywords(settings)

    assert consent_action("BAJA", keywords) is ConsentAction.STOP
    assert consent_action("parar", keywords) is ConsentAction.STOP
    assert consent_action("Alta", keywords) is ConsentAction.START
    assert consent_action("stop", keywords) is ConsentAction.STOP
    assert consent_action("unsubscribe", keywords) is None  # the tenant's English list rules
    assert consent_action("yes", keywords) is None


@pytest.mark.parametrize("tag", ["Spanish!", "e", "zh-abcdefgh-abcdefgh"])
def test_a_language_tag_must_look_like_one(tag: str) -> None:
    with pytest.raises(ValueError, match="language tag"):
        TenantSettings(tenant_id=TENANT, keywords={tag: ConsentKeywords()})


def test_twilio_21610_is_the_typed_unsubscribed_error_and_others_are_not() -> None:
    body = b'{"code": 21610, "message": "Attempt to send to unsubscribed recipient"}'
    assert isinstance(provider_error(400, body), RecipientOptedOut)
    assert type(provider_error(400, b'{"code": 21211}')) is ProviderError


@pytest.mark.parametrize(
    ("value", "action"),
    [
        ("STOP", ConsentAction.STOP),
        ("start", ConsentAction.START),
        ("HELP", ConsentAction.HELP),
        ("", None),
        ("SOMETHING-NEW", None),
    ],
)
def test_twilios_opt_out_type_is_parsed_and_an_unknown_one_is_ignored(
    value: str, action: ConsentAction | None
) -> None:
    form = {"MessageSid": "SM" + "f" * 32, "From": PERSON, "To": NUMBER, "Body": "x"}
    message = parse_inbound_form({**form, "OptOutType": value}, received_at=T0)
    assert message.opt_out_type is action


class World:
    """Services over in-memory stores with WhatsApp and SMS from one tenant's number."""

    def __init__(self, *, confidence: float = 0.9) -> None:
        self.stores = InMemoryStores()
        self.clock = FixedClock(T0)
        self.whatsapp = RecordingTransport(Channel.WHATSAPP)
        self.sms = RecordingTransport(Channel.SMS)
        self.services: Services = build_services(
            Settings(walker_pseudonym_key="consent-test-key", walker_sweep_interval=0),
            stores=self.stores,
            clock=self.clock,
            agent=echo_agent(confidence=confidence),
            whatsapp_transport=self.whatsapp,
            sms_transport=self.sms,
        )
        self.stores.add_number(TENANT, f"whatsapp:{NUMBER}")
        self.stores.add_number(TENANT, NUMBER)

    def transport(self, channel: Channel) -> RecordingTransport:
        return self.whatsapp if channel == Channel.WHATSAPP else self.sms

    async def write(self, text: str, channel: Channel, **form: str) -> ProcessOutcome | None:
        """The person writes ``text`` on ``channel`` (Twilio's form); how it was processed."""
        prefix = "whatsapp:" if channel == Channel.WHATSAPP else ""
        fields = {
            "MessageSid": f"SM{next(_sids):032x}",
            "From": f"{prefix}{PERSON}",
            "To": f"{prefix}{NUMBER}",
            "Body": text,
            **form,
        }
        message = parse_inbound_form(fields, received_at=self.clock.now())
        return (await self.services.conversations.handle(message)).processed

    async def proactive(self, channel: Channel, key: str) -> None:
        await self.services.proactive.send(
            tenant_id=TENANT,
            to=Address(channel=channel, value=PERSON),
            text="News!",
            idempotency_key=key,
        )

    def types(self) -> list[EventType]:
        return [event.type for event in self.stores.events.events]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    world = World()
    await world.services.start()
    yield world
    await world.services.close()


@pytest.mark.parametrize("channel", [Channel.WHATSAPP, Channel.SMS])
async def test_stop_opts_out_the_agent_is_not_run_and_proactive_sends_are_refused(
    world: World, channel: Channel
) -> None:
    assert await world.write("STOP", channel) is ProcessOutcome.OPTED_OUT
    assert await world.write("are you there?", channel) is ProcessOutcome.OPTED_OUT
    with pytest.raises(OptedOut):
        await world.proactive(channel, "news-1")

    assert world.transport(channel).sent == []
    assert world.types() == [EventType.INBOUND, EventType.OPTED_OUT, EventType.INBOUND]
    [record] = await world.stores.consent.opt_outs(TENANT)
    assert (record.channel, record.source) == (channel, ConsentSource.KEYWORD)
    assert PERSON not in record.participant
    assert world.stores.ledger.records == {}  # refused before anything was reserved


async def test_an_opt_out_is_per_channel(world: World) -> None:
    await world.write("hi", Channel.WHATSAPP)
    await world.write("stop", Channel.SMS)

    await world.proactive(Channel.WHATSAPP, "news-1")

    assert [m.text for m in world.whatsapp.sent] == ["Echo: hi", "News!"]


@pytest.mark.parametrize("channel", [Channel.WHATSAPP, Channel.SMS])
async def test_start_lifts_it_without_the_agent_and_sends_go_out_again(
    world: World, channel: Channel
) -> None:
    await world.write("STOP", channel)

    assert await world.write(" Start ", channel) is ProcessOutcome.CONSENT_KEYWORD
    await world.proactive(channel, "news-2")
    assert await world.write("hello", channel) is ProcessOutcome.REPLIED

    assert [m.text for m in world.transport(channel).sent] == ["News!", "Echo: hello"]
    assert EventType.OPTED_IN in world.types()


async def test_yes_from_someone_not_opted_out_is_an_ordinary_message(world: World) -> None:
    assert await world.write("yes", Channel.SMS) is ProcessOutcome.REPLIED
    assert [m.text for m in world.sms.sent] == ["Echo: yes"]


async def test_twilios_opt_out_type_is_read_and_twilios_own_answer_stands(world: World) -> None:
    # Advanced Opt-Out: a tenant keyword Twilio knows, though ours do not.
    stopped = await world.write("ARRET", Channel.SMS, OptOutType="STOP")
    helped = await world.write("INFO", Channel.WHATSAPP, OptOutType="HELP")

    assert stopped is ProcessOutcome.OPTED_OUT
    assert helped is ProcessOutcome.CONSENT_KEYWORD  # Twilio answered it: no second reply
    [record] = await world.stores.consent.opt_outs(TENANT)
    assert record.source is ConsentSource.PROVIDER
    assert world.sms.sent == world.whatsapp.sent == []


async def test_a_tenants_own_keyword_opts_out(world: World) -> None:
    spanish = ConsentKeywords(stop=("baja",), start=("alta",))
    await world.stores.tenant_settings.save(
        TenantSettings(tenant_id=TENANT, keywords={"es": spanish})
    )

    assert await world.write("BAJA", Channel.WHATSAPP) is ProcessOutcome.OPTED_OUT
    assert await world.write("Alta", Channel.WHATSAPP) is ProcessOutcome.CONSENT_KEYWORD


async def test_an_approval_and_a_human_reply_are_refused_and_the_draft_stays_pending() -> None:
    world = World(confidence=0.1)  # every answer goes to review
    await world.services.start()
    everyone = Scope(tenant_ids=None)
    try:
        assert await world.write("my order?", Channel.SMS) is ProcessOutcome.ESCALATED
        [draft] = await world.stores.approvals.list_pending(everyone)
        await world.write("STOP", Channel.SMS)

        with pytest.raises(OptedOut):
            await world.services.review.approve(draft.id, scope=everyone, reviewer="r")
        [conversation] = await world.services.handoff.find(ConversationQuery(scope=everyone))
        await world.services.handoff.takeover(conversation.id, scope=everyone, by="r")
        with pytest.raises(OptedOut):
            await world.services.handoff.reply(
                conversation.id, scope=everyone, by="r", idempotency_key="h-1", text="Hi"
            )

        [still] = await world.stores.approvals.list_pending(everyone)
        assert still.id == draft.id
        assert [m.text for m in world.sms.sent] == [world.services.config.holding_message]
    finally:
        await world.services.close()


async def test_twilio_21610_on_a_send_puts_the_person_on_the_list(world: World) -> None:
    refused = provider_error(400, b'{"code": 21610, "message": "unsubscribed"}')
    world.sms.fail_with(refused)

    receipt = await world.services.proactive.send(
        tenant_id=TENANT,
        to=Address(channel=Channel.SMS, value=PERSON),
        text="News!",
        idempotency_key="news-1",
    )

    assert receipt.error_code == "21610"
    [record] = await world.stores.consent.opt_outs(TENANT)
    assert record.source is ConsentSource.SEND_ERROR
    with pytest.raises(OptedOut):
        await world.proactive(Channel.SMS, "news-2")


async def test_opt_outs_and_opt_ins_count_in_the_stats(world: World) -> None:
    await world.write("STOP", Channel.SMS)
    await world.write("STOP", Channel.SMS)  # already on the list: no second change
    await world.write("START", Channel.SMS)
    await world.write("END", Channel.WHATSAPP)

    stats = await world.stores.monitoring.stats(StatsQuery(scope=Scope(tenant_ids=None)))

    assert (stats.opt_outs, stats.opt_ins, stats.inbound_total) == (2, 1, 4)


async def test_an_operator_lifts_an_opt_out_and_it_is_recorded(world: World) -> None:
    await world.write("STOP", Channel.SMS)
    consent = world.services.consent
    assert consent is not None
    [record] = await consent.opt_outs(TENANT)

    assert await consent.lift(TENANT, Channel.SMS, record.participant, by="root")
    assert not await consent.lift(TENANT, Channel.SMS, record.participant, by="root")

    opted_in = world.stores.events.events[-1]
    assert (opted_in.type, getattr(opted_in, "by", None)) == (EventType.OPTED_IN, "root")
    world.clock.advance(timedelta(minutes=1))
    await world.proactive(Channel.SMS, "news-1")
    assert [m.text for m in world.sms.sent] == ["News!"]


async def test_a_failed_approved_send_is_not_retried_once_the_person_opted_out() -> None:
    world = World(confidence=0.1)
    await world.services.start()
    everyone = Scope(tenant_ids=None)
    try:
        await world.write("my order?", Channel.SMS)
        [draft] = await world.stores.approvals.list_pending(everyone)
        world.sms.fail_with(TransportError("Twilio is down", retryable=True, code="20503"))
        await world.services.review.approve(draft.id, scope=everyone, reviewer="r")
        await world.write("STOP", Channel.SMS)
        world.clock.advance(timedelta(hours=1))

        await world.services.sender.settle_due()

        assert [m.text for m in world.sms.sent] == [world.services.config.holding_message]
        [record] = [r for r in world.stores.ledger.records.values() if r.key.startswith("approval")]
        assert (record.state, record.next_attempt_at) == (OutboundState.FAILED, None)
        assert await world.stores.ledger.due(world.clock.now()) == []
    finally:
        await world.services.close()
