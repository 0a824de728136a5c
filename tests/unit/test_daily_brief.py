"""The daily brief: sections from the host, advice from the email agent, sent and recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from walker_channels.exceptions import (
    AgentError,
    ConfigurationError,
    InvalidEmailAddress,
    ProviderError,
)
from walker_channels.models import (
    AgentReply,
    BriefMetric,
    CampaignUpdate,
    Channel,
    ConversationStats,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundState,
    StatsQuery,
)
from walker_channels.ports import AgentRunner
from walker_channels.privacy import pseudonymize
from walker_channels.services import OutboundSender, SendPurpose, ServiceConfig
from walker_channels.services.email import (
    BriefConfig,
    ConversationBriefData,
    DailyBriefRequest,
    DailyBriefService,
    StaticBriefData,
    TemplateCatalog,
)
from walker_channels.services.keys import outbound_event_key
from walker_channels.testing import (
    FixedClock,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    RecordingTransport,
    ScriptedAgent,
)

pytestmark = pytest.mark.anyio

KEY = "pseudonym-secret"
NOW = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
RECIPIENT = "ann@example.org"
METRICS = (BriefMetric(label="Replies sent", value=42, change_pct=5.0),)
CAMPAIGNS = (CampaignUpdate(name="Spring sale", status="running", summary="On track"),)
ADVICE = AgentReply(
    text="1. Answer the open reviews\n- Pause the slow campaign\n\n",
    agent_id="email",
    confidence=0.8,
)


class CountingData(StaticBriefData):
    """Static data that remembers which sections were asked for."""

    def __init__(self) -> None:
        super().__init__(METRICS, CAMPAIGNS)
        self.asked: list[str] = []

    async def analytics(self, tenant_id: str, user_id: str, day: date) -> Sequence[BriefMetric]:
        self.asked.append(f"analytics:{tenant_id}:{user_id}:{day}")
        return await super().analytics(tenant_id, user_id, day)

    async def campaign_updates(
        self, tenant_id: str, user_id: str, day: date
    ) -> Sequence[CampaignUpdate]:
        self.asked.append(f"campaigns:{tenant_id}:{user_id}:{day}")
        return await super().campaign_updates(tenant_id, user_id, day)


class Kit:
    """A brief service on fakes, with its parts at hand."""

    def __init__(self, agent: AgentRunner | None, **config: object) -> None:
        self.transport = RecordingTransport(Channel.EMAIL)
        self.events = InMemoryEventStore()
        self.data = CountingData()
        self.agent = agent
        self.ledger = InMemoryOutboundLedger(self.events)
        sender = OutboundSender(
            transports={Channel.EMAIL: self.transport},
            ledger=self.ledger,
            clock=FixedClock(NOW),
            config=ServiceConfig(pseudonym_key=KEY),
        )
        self.service = DailyBriefService(
            sender=sender,
            templates=TemplateCatalog(),
            data=self.data,
            agent=agent,
            clock=FixedClock(NOW),
            config=BriefConfig.model_validate(config),
        )

    @property
    def text(self) -> str:
        (message,) = self.transport.sent
        assert message.email is not None
        return message.email.text


def request(**changes: object) -> DailyBriefRequest:
    fields: dict[str, object] = {
        "user_id": "u1",
        "tenant_id": "t1",
        "recipient_email": RECIPIENT,
        "recipient_name": "Ann",
    }
    return DailyBriefRequest.model_validate({**fields, **changes})


def test_the_request_takes_the_fields_the_seed_documented() -> None:
    seed = {
        "user_id": "u1",
        "tenant_id": "t1",
        "recipient_email": RECIPIENT,
        "include_analytics": True,
        "include_campaign_updates": False,
        "include_recommendations": True,
    }
    assert DailyBriefRequest.model_validate(seed).include_campaign_updates is False
    assert RECIPIENT not in repr(DailyBriefRequest.model_validate(seed))


async def test_a_full_brief_is_sent_with_every_section() -> None:
    kit = Kit(ScriptedAgent([ADVICE]))

    receipt = await kit.service.send(request())

    assert receipt.sections == ("analytics", "campaign_updates", "recommendations")
    assert receipt.brief_date == date(2026, 3, 29)
    assert receipt.notes == ()
    assert "Replies sent: 42 (+5%)" in kit.text
    assert "Spring sale [running]: On track" in kit.text
    assert "- Answer the open reviews\n- Pause the slow campaign\n" in kit.text
    (message,) = kit.transport.sent
    assert message.to.value == RECIPIENT
    assert message.email is not None
    assert message.email.subject == "Your daily brief for 2026-03-29"


async def test_the_brief_is_recorded_under_the_tenant_with_a_pseudonym() -> None:
    kit = Kit(ScriptedAgent([ADVICE]))

    receipt = await kit.service.send(request(), idempotency_key="brief:s1:2026-03-29")

    (event,) = kit.events.events
    assert isinstance(event, OutboundEvent)
    assert (event.tenant_id, event.channel) == ("t1", Channel.EMAIL)
    assert event.participant == pseudonymize(RECIPIENT, KEY) == receipt.participant
    assert event.provider_message_id == receipt.provider_message_id
    assert (event.agent_id, event.confidence) == ("email", 0.8)
    key = SendPurpose.DAILY_BRIEF.key("brief:s1:2026-03-29", tenant_id="t1")
    assert event.idempotency_key == outbound_event_key(key)
    assert kit.ledger.records[key].state is OutboundState.SENT
    assert event.text == "Your daily brief for 2026-03-29"
    assert event.data == {
        "purpose": "daily_brief",
        "template": "daily_brief",
        "user_id": "u1",
        "brief_date": "2026-03-29",
        "sections": ["analytics", "campaign_updates", "recommendations"],
    }
    assert "Replies sent" not in event.model_dump_json()
    assert RECIPIENT not in event.model_dump_json()
    assert receipt.duplicate is False


async def test_the_email_agent_is_asked_with_a_session_for_the_brief() -> None:
    agent = ScriptedAgent([ADVICE])
    kit = Kit(agent, agent_id="brief-writer")

    await kit.service.send(request())

    (asked,) = agent.requests
    participant = pseudonymize(RECIPIENT, KEY)
    assert asked.session_id == f"t1:email:{participant}:brief:2026-03-29"
    assert (asked.tenant_id, asked.channel, asked.agent_id) == ("t1", Channel.EMAIL, "brief-writer")
    assert asked.metadata["analytics"] == [METRICS[0].model_dump(mode="json")]
    assert "Replies sent" in asked.text
    (event,) = kit.events.events
    assert event.session_id == asked.session_id


async def test_switched_off_sections_are_neither_fetched_nor_shown() -> None:
    agent = ScriptedAgent([ADVICE])
    kit = Kit(agent)

    receipt = await kit.service.send(
        request(include_analytics=False, include_recommendations=False)
    )

    assert receipt.sections == ("campaign_updates",)
    assert kit.data.asked == ["campaigns:t1:u1:2026-03-29"]
    assert agent.requests == []
    assert "ANALYTICS" not in kit.text
    assert "RECOMMENDATIONS" not in kit.text
    assert "Spring sale" in kit.text


@pytest.mark.parametrize(
    ("make_agent", "failure"),
    [
        (lambda: ScriptedAgent([AgentError("flow failed")]), "agent_error"),
        (lambda: ScriptedAgent(default=ADVICE, delay=5), "agent_timeout"),
        (lambda: ScriptedAgent([RuntimeError("runner bug")]), "agent_error"),
        (lambda: None, "no_agent"),
    ],
    ids=["agent-error", "timeout", "broken-runner", "no-agent"],
)
async def test_a_failing_agent_does_not_lose_the_brief(
    make_agent: Callable[[], AgentRunner | None], failure: str
) -> None:
    kit = Kit(make_agent(), agent_timeout=timedelta(milliseconds=50))

    receipt = await kit.service.send(request())

    assert receipt.sections == ("analytics", "campaign_updates")
    assert receipt.notes == ("Recommendations are not available today.",)
    assert "Recommendations are not available today." in kit.text
    assert "RECOMMENDATIONS" not in kit.text
    (event,) = kit.events.events
    assert isinstance(event, OutboundEvent)
    assert event.data["recommendations_failure"] == failure


async def test_an_agent_with_nothing_to_say_is_noted() -> None:
    kit = Kit(ScriptedAgent([AgentReply(text="-\n", agent_id="email", confidence=0.9)]))

    receipt = await kit.service.send(request())

    assert "recommendations" not in receipt.sections
    assert receipt.notes == ("The email agent has no recommendations today.",)


async def test_the_day_can_be_chosen_and_the_unsubscribe_url_is_passed_on() -> None:
    kit = Kit(None)

    receipt = await kit.service.send(
        request(include_recommendations=False, list_unsubscribe_url="https://a.example/u"),
        day=date(2026, 3, 28),
    )

    assert receipt.brief_date == date(2026, 3, 28)
    assert kit.data.asked[0] == "analytics:t1:u1:2026-03-28"
    (message,) = kit.transport.sent
    assert message.email is not None
    assert message.email.list_unsubscribe_url == "https://a.example/u"


async def test_a_failed_send_is_recorded_and_raised() -> None:
    kit = Kit(None)
    kit.transport.fail_with(ProviderError("refused (SMTP 550)", retryable=False, code="550"))

    with pytest.raises(ProviderError):
        await kit.service.send(request(include_recommendations=False))

    (event,) = kit.events.events
    assert isinstance(event, OutboundFailedEvent)
    assert (event.error_code, event.retryable, event.tenant_id) == ("550", False, "t1")
    assert event.text == "Your daily brief for 2026-03-29"
    assert event.data["purpose"] == "daily_brief"


async def test_an_invalid_recipient_sends_and_records_nothing() -> None:
    kit = Kit(ScriptedAgent([ADVICE]))

    with pytest.raises(InvalidEmailAddress) as failure:
        await kit.service.send(request(recipient_email="ann@@example"))

    assert "ann@@example" not in str(failure.value)
    assert kit.transport.sent == []
    assert kit.events.events == []


async def test_a_rerun_for_the_same_day_sends_nothing_new() -> None:
    kit = Kit(None)

    first = await kit.service.send(request(include_recommendations=False))
    again = await kit.service.send(request(include_recommendations=False))
    next_day = await kit.service.send(request(include_recommendations=False), day=date(2026, 3, 30))

    assert len(kit.transport.sent) == 2
    assert (first.duplicate, again.duplicate, next_day.duplicate) == (False, True, False)
    assert again.provider_message_id == first.provider_message_id
    assert len(kit.events.events) == 2


async def test_a_given_idempotency_key_decides_what_counts_as_a_rerun() -> None:
    kit = Kit(None)

    await kit.service.send(request(include_recommendations=False), idempotency_key="run-1")
    same_key = await kit.service.send(
        request(include_recommendations=False), idempotency_key="run-1"
    )
    other_key = await kit.service.send(
        request(include_recommendations=False), idempotency_key="run-2"
    )

    assert (same_key.duplicate, other_key.duplicate) == (True, False)
    assert len(kit.transport.sent) == 2


def test_the_service_needs_a_sender_with_an_email_transport() -> None:
    sms_only = OutboundSender(
        transports={Channel.SMS: RecordingTransport(Channel.SMS)},
        ledger=InMemoryOutboundLedger(),
        clock=FixedClock(NOW),
        config=ServiceConfig(pseudonym_key=KEY),
    )
    with pytest.raises(ConfigurationError, match="email transport"):
        DailyBriefService(
            sender=sms_only,
            templates=TemplateCatalog(),
            data=StaticBriefData(),
            agent=None,
            clock=FixedClock(NOW),
        )


class OneDayStats:
    """A MonitoringReader that answers ``stats`` with fixed figures and keeps the query."""

    def __init__(self) -> None:
        self.queries: list[StatsQuery] = []

    async def stats(self, query: StatsQuery) -> ConversationStats:
        self.queries.append(query)
        return ConversationStats(
            inbound_total=120,
            outbound_total=110,
            failed_total=2,
            escalated_total=8,
            avg_response_ms=900.0,
            p50_response_ms=1250.0,
            p95_response_ms=None,
            p99_response_ms=None,
            confidence_buckets=(),
            hitl_rate=0.068,
            success_rate=0.982,
            unique_users=75,
            hourly_distribution=(0,) * 24,
            top_agents=(),
        )


async def test_the_example_source_reports_yesterdays_conversations_of_the_tenant() -> None:
    reader = OneDayStats()
    source = ConversationBriefData(reader)

    figures = await source.analytics("t1", "u1", date(2026, 3, 29))

    (query,) = reader.queries
    assert query.scope.tenant_ids == frozenset({"t1"})
    assert (query.start, query.end) == (
        datetime(2026, 3, 28, tzinfo=UTC),
        datetime(2026, 3, 29, tzinfo=UTC),
    )
    shown = {figure.label: (figure.value, figure.unit) for figure in figures}
    assert shown["Messages received"] == (120, "")
    assert shown["Delivery success"] == (98.2, "%")
    assert shown["Median response time"] == (1.25, " s")
    assert await source.campaign_updates("t1", "u1", date(2026, 3, 29)) == ()
