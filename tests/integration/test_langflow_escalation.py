"""The real conversation flow with the Langflow runner over loopback HTTP.

When the flow fails, times out or answers junk, the person gets the holding message and a
reviewer gets exactly one approval; a confident flow's reply goes straight out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the loopback server needs the fastapi extra")

from langflow_server import LangflowServer

from walker_channels import (
    Address,
    ApprovalStatus,
    Channel,
    EscalationReason,
    InboundMessage,
    RiskLevel,
)
from walker_channels.agents import LangflowConfig, LangflowRunner
from walker_channels.services import (
    ConversationService,
    OutboundSender,
    ProcessOutcome,
    ServiceConfig,
)
from walker_channels.testing import (
    FixedClock,
    InMemoryApprovalStore,
    InMemoryConversationStore,
    InMemoryEventStore,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    InMemoryTenantResolver,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

API_KEY = "sk-escalation-3c8d"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = "+14155552671"
TENANT_NUMBER = "+14155550100"
HOLDING = "Thanks! A colleague will answer shortly."


@pytest.fixture(scope="module")
def server() -> Iterator[LangflowServer]:
    with LangflowServer(api_key=API_KEY) as running:
        yield running


class Deployment:
    """In-memory stores and a recording transport around one ConversationService."""

    def __init__(self, runner: LangflowRunner, **config: Any) -> None:
        self.clock = FixedClock(T0)
        self.events = InMemoryEventStore()
        self.approvals = InMemoryApprovalStore()
        self.conversations = InMemoryConversationStore(self.events)
        self.transport = RecordingTransport(Channel.WHATSAPP)
        settings = ServiceConfig(pseudonym_key="langflow-key", holding_message=HOLDING, **config)
        sender = OutboundSender(
            transports={Channel.WHATSAPP: self.transport},
            ledger=InMemoryOutboundLedger(self.events),
            clock=self.clock,
            config=settings,
        )
        self.service = ConversationService(
            config=settings,
            tenants=InMemoryTenantResolver({f"whatsapp:{TENANT_NUMBER}": "t1"}),
            events=self.events,
            queue=InMemoryInboundQueue(),
            agent=runner,
            approvals=self.approvals,
            sender=sender,
            clock=self.clock,
            conversations=self.conversations,
        )

    def texts_sent(self) -> list[str | None]:
        return [message.text for message in self.transport.sent]


@pytest.fixture
async def runner_for(server: LangflowServer) -> AsyncIterator[Any]:
    runners: list[LangflowRunner] = []

    def make(flow: str, **changes: Any) -> LangflowRunner:
        settings = {"base_url": server.url, "api_key": API_KEY, "flow_id": flow, "retry_wait": 0}
        runners.append(LangflowRunner(LangflowConfig(**(settings | changes))))
        return runners[-1]

    yield make
    for runner in runners:
        await runner.aclose()


def whatsapp(sid: str, text: str = "When do you open?") -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=sid,
        sender=Address(channel=Channel.WHATSAPP, value=PERSON),
        recipient=Address(channel=Channel.WHATSAPP, value=TENANT_NUMBER),
        text=text,
        received_at=T0,
    )


@pytest.mark.parametrize(
    ("flow", "reason"),
    [
        ("crash", EscalationReason.AGENT_ERROR),
        ("not-owned", EscalationReason.AGENT_ERROR),
        ("nope", EscalationReason.AGENT_ERROR),
        ("rate-limited", EscalationReason.AGENT_ERROR),
        ("garbage", EscalationReason.INVALID_REPLY),
        ("no_text", EscalationReason.INVALID_REPLY),
    ],
)
async def test_a_failing_flow_gives_one_approval_and_the_holding_message(
    runner_for: Any, flow: str, reason: EscalationReason
) -> None:
    deployment = Deployment(runner_for(flow))

    handled = await deployment.service.handle(whatsapp(f"SM-{flow}"))

    assert handled.processed is ProcessOutcome.ESCALATED
    [approval] = deployment.approvals.approvals.values()
    assert (approval.status, approval.reason, approval.risk_level) == (
        ApprovalStatus.PENDING,
        reason,
        RiskLevel.HIGH,
    )
    assert deployment.texts_sent() == [HOLDING]


@pytest.mark.parametrize(
    ("runner_timeout", "service_timeout"),
    [(0.2, timedelta(seconds=5)), (5.0, timedelta(milliseconds=200))],
    ids=["runner-timeout", "service-timeout"],
)
async def test_a_slow_flow_is_escalated_as_a_timeout(
    runner_for: Any, runner_timeout: float, service_timeout: timedelta
) -> None:
    deployment = Deployment(
        runner_for("slow", timeout=runner_timeout), agent_timeout=service_timeout
    )

    handled = await deployment.service.handle(whatsapp(f"SM-slow-{runner_timeout}"))

    assert handled.processed is ProcessOutcome.ESCALATED
    [approval] = deployment.approvals.approvals.values()
    assert approval.reason is EscalationReason.AGENT_TIMEOUT
    assert deployment.texts_sent() == [HOLDING]


async def test_a_flow_without_confidence_is_escalated_with_its_draft(runner_for: Any) -> None:
    deployment = Deployment(runner_for("recent"))

    await deployment.service.handle(whatsapp("SM-unscored"))

    [approval] = deployment.approvals.approvals.values()
    assert approval.reason is EscalationReason.MISSING_CONFIDENCE
    assert approval.proposed_text == "Bioluminescence is light made by living things."
    assert deployment.texts_sent() == [HOLDING]


async def test_a_confident_flow_replies_in_the_conversations_langflow_session(
    server: LangflowServer, runner_for: Any
) -> None:
    deployment = Deployment(runner_for("echo", default_confidence=0.9))

    handled = await deployment.service.handle(whatsapp("SM-confident", "Open on Sunday?"))

    assert handled.processed is ProcessOutcome.REPLIED
    assert deployment.texts_sent() == ["echo: Open on Sunday?"]
    assert deployment.approvals.approvals == {}
    [inbound] = [e for e in deployment.events.events if e.provider_message_id == "SM-confident"]
    [seen] = [s for s in server.seen("echo") if s.body["input_value"] == "Open on Sunday?"]
    assert seen.body["session_id"] == inbound.session_id
    assert PERSON not in seen.body["session_id"]
