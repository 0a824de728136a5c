"""The telemetry helper: a step records ids and outcomes, inherits its parent's ids, ends as
``error`` naming only the exception's type, and works without OpenTelemetry installed."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from walker_channels.exceptions import ProviderError
from walker_channels.models import (
    Address,
    Channel,
    EscalationReason,
    OutboundMessage,
    OutboundState,
)
from walker_channels.routing import Route
from walker_channels.services import OutboundSender, SendContext, SendPurpose, ServiceConfig
from walker_channels.telemetry import Telemetry, route_label
from walker_channels.testing import (
    FixedClock,
    InMemoryInboundQueue,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans: InMemorySpanExporter) -> Telemetry:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return Telemetry(tracer_provider=provider)


async def test_a_step_inside_another_inherits_its_ids_but_not_its_outcome(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    async def send() -> str:
        return "sent"

    async def process() -> str:
        telemetry.note(route="send")
        await telemetry.traced("send", send(), purpose="reply")
        return "replied"

    await telemetry.traced(
        "process", process(), tenant_id="acme", channel=Channel.SMS, message_id="SM1"
    )

    inner, outer = spans.get_finished_spans()
    assert dict(inner.attributes or {}) == {
        "walker.tenant_id": "acme",
        "walker.channel": "sms",
        "walker.message_id": "SM1",
        "walker.purpose": "reply",
        "walker.outcome": "sent",
    }
    assert dict(outer.attributes or {})["walker.route"] == "send"
    assert dict(outer.attributes or {})["walker.outcome"] == "replied"


async def test_a_failing_step_records_the_exceptions_type_only_and_raises_it(
    telemetry: Telemetry, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    async def agent() -> str:
        raise ValueError("the person's words: +14155552671")

    caplog.set_level(logging.INFO, logger="walker_channels.flow")
    with pytest.raises(ValueError, match="person's words"):
        await telemetry.traced("agent", agent(), message_id="SM2")

    [span] = spans.get_finished_spans()
    assert dict(span.attributes or {}) == {
        "walker.message_id": "SM2",
        "walker.outcome": "error",
        "walker.error": "ValueError",
    }
    assert span.events == ()  # no exception event: its message may quote the person
    [record] = caplog.records
    assert record.getMessage() == "agent SM2: error"
    assert (vars(record)["walker_outcome"], vars(record)["walker_error"]) == ("error", "ValueError")


async def test_a_cancelled_step_ends_as_cancelled(
    telemetry: Telemetry, spans: InMemorySpanExporter
) -> None:
    task = asyncio.ensure_future(telemetry.traced("agent", asyncio.sleep(60), message_id="SM3"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [span] = spans.get_finished_spans()
    assert dict(span.attributes or {})["walker.outcome"] == "cancelled"


def test_the_confidence_route_is_named_by_its_reason_and_risk() -> None:
    assert route_label(Route(send=True)) == "send"
    route = Route(send=False, reason=EscalationReason.LOW_CONFIDENCE, risk_level="medium")
    assert route_label(route) == "escalate:low_confidence:medium"


async def test_reading_the_queue_gauges_on_the_services_loop_does_not_block_it(
    telemetry: Telemetry,
) -> None:
    queue = InMemoryInboundQueue()
    telemetry.watch_queue(queue, FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))

    # A collection on the loop itself cannot wait for a read on that loop: nothing yet.
    assert telemetry.queue_figures() is None
    # From a reader's thread, the read runs on the loop.
    stats, age = await asyncio.to_thread(telemetry.queue_figures) or (None, None)
    assert (stats.waiting if stats else None, age) == (0, 0.0)
    telemetry.unwatch_queue(queue)
    assert telemetry.queue_figures() is None


def test_without_opentelemetry_the_flow_still_runs_and_logs() -> None:
    probe = """
import asyncio, logging, sys
sys.modules["opentelemetry"] = None  # as if the telemetry extra were not installed
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
import walker_channels.app, walker_channels.services
from walker_channels.telemetry import Telemetry, default_telemetry

async def work():
    return "replied"

telemetry = default_telemetry()
assert telemetry.queue_figures() is None
print(asyncio.run(telemetry.traced("process", work(), message_id="SM4")))
"""
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["process SM4: replied", "replied"]


async def test_a_failed_send_is_logged_with_the_steps_ids_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = InMemoryMetricReader()
    telemetry = Telemetry(meter_provider=MeterProvider(metric_readers=[reader]))
    transport = RecordingTransport(Channel.WHATSAPP)
    transport.fail_with(ProviderError("refused", code="63016", retryable=False))
    sender = OutboundSender(
        transports={Channel.WHATSAPP: transport},
        ledger=InMemoryOutboundLedger(),
        clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)),
        config=ServiceConfig(pseudonym_key="telemetry-test-key"),
        telemetry=telemetry,
    )
    message = OutboundMessage(
        channel=Channel.WHATSAPP,
        to=Address(channel=Channel.WHATSAPP, value="+14155552671"),
        text="hello",
    )
    caplog.set_level(logging.INFO, logger="walker_channels")

    context = SendContext(purpose=SendPurpose.PROACTIVE, cause="c1", tenant_id="acme")
    receipt = await telemetry.traced("process", sender.send(message, context), message_id="SM5")

    assert receipt.state is OutboundState.FAILED
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert vars(warning)["walker_step"] == "send"
    assert vars(warning)["walker_message_id"] == "SM5"
    assert vars(warning)["walker_tenant_id"] == "acme"
    data = reader.get_metrics_data()
    [failed] = [
        point
        for resource in (data.resource_metrics if data else [])
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "walker.messages.failed"
        for point in metric.data.data_points
    ]
    assert dict(failed.attributes) == {
        "walker.channel": "whatsapp",
        "walker.tenant_id": "acme",
        "walker.purpose": "proactive",
        "walker.outcome": "failed",
    }
