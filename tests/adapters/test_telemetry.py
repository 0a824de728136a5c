"""Spans, metrics and log lines of the flow, through both adapters, read with the
OpenTelemetry SDK's in-memory exporter and metric reader: ids, channels and outcomes are
recorded, never the message's text, a phone number or a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from web_harness import (
    ADMIN,
    AUTH_TOKEN,
    NUMBER_A,
    PERSON,
    PSEUDONYM_KEY,
    TENANT_A,
    MakeApp,
    new_sid,
)

from walker_channels.telemetry import Telemetry

TEXT = "my secret plans for tuesday"
UNSURE = "refund for my secret plans"  # the harness's echo agent is unsure about refunds
QUEUE = f"{ADMIN}/hitl/review-queue"
FORBIDDEN = (
    PERSON,
    PERSON.removeprefix("+"),  # the WhatsApp id Twilio sends
    NUMBER_A.removeprefix("+"),
    "secret plans",
    AUTH_TOKEN,
    PSEUDONYM_KEY,
)
"""What no span attribute, metric attribute or log record may hold."""


@dataclass
class Otel:
    """An SDK tracer and meter provider recording in memory, and the Telemetry on them."""

    spans: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.telemetry = Telemetry(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    def finished(self, name: str) -> list[ReadableSpan]:
        """The finished spans called ``name``, oldest first."""
        return [s for s in self.spans.get_finished_spans() if s.name == name]

    def points(self, name: str) -> list[Any]:
        """The data points of the instrument ``name`` at a collection now."""
        data = self.reader.get_metrics_data()
        return [
            point
            for resource in (data.resource_metrics if data else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def otel() -> Iterator[Otel]:
    """Fresh in-memory providers for one test."""
    recorded = Otel()
    yield recorded
    recorded.tracer_provider.shutdown()
    recorded.meter_provider.shutdown()


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """A span's attributes as a plain dict."""
    return dict(span.attributes or {})


def assert_no_personal_data(values: Any) -> None:
    """None of ``values`` (strings, or anything printed) holds a number or the text."""
    for value in values:
        for forbidden in FORBIDDEN:
            assert forbidden not in str(value), f"{forbidden!r} leaked in {value!r}"


def test_a_webhook_is_traced_through_accept_agent_and_send(make_app: MakeApp, otel: Otel) -> None:
    app = make_app(telemetry=otel.telemetry)
    sid = new_sid()

    assert app.inbound(TEXT, sid=sid).status_code == 200

    [accept] = otel.finished("walker.accept")
    [process] = otel.finished("walker.process")
    [agent] = otel.finished("walker.agent")
    [send] = otel.finished("walker.send")
    ids = {"walker.tenant_id": TENANT_A, "walker.channel": "whatsapp", "walker.message_id": sid}
    assert attributes(accept) == ids | {"walker.outcome": "accepted"}
    assert attributes(process) == ids | {
        "walker.outcome": "replied",
        "walker.route": "send",
        "walker.agent_id": "echo",
    }
    assert attributes(agent) == ids | {"walker.outcome": "reply"}
    assert attributes(send) == ids | {
        "walker.outcome": "sent",
        "walker.purpose": "reply",
        "walker.send_key": f"reply:{sid}",
    }
    # The agent's run and the reply are parts of answering the message.
    assert agent.parent is not None
    assert agent.parent.span_id == process.context.span_id
    assert send.parent is not None
    assert send.parent.span_id == process.context.span_id
    assert_no_personal_data(
        value for span in otel.spans.get_finished_spans() for value in attributes(span).values()
    )


def test_the_flow_is_counted_and_the_agent_timed(make_app: MakeApp, otel: Otel) -> None:
    app = make_app(telemetry=otel.telemetry)
    for _ in range(2):
        assert app.inbound(TEXT).status_code == 200

    tenant = {"walker.tenant_id": TENANT_A, "walker.channel": "whatsapp"}
    [accepted] = otel.points("walker.messages.accepted")
    assert (dict(accepted.attributes), accepted.value) == (tenant, 2)
    [sent] = otel.points("walker.messages.sent")
    assert (dict(sent.attributes), sent.value) == (tenant | {"walker.purpose": "reply"}, 2)
    [latency] = otel.points("walker.agent.duration")
    assert dict(latency.attributes) == tenant | {"walker.outcome": "reply"}
    assert latency.count == 2
    assert latency.sum >= 0
    assert otel.points("walker.messages.failed") == []
    assert otel.points("walker.escalations") == []


def test_an_escalation_records_its_route_and_is_counted(make_app: MakeApp, otel: Otel) -> None:
    app = make_app(telemetry=otel.telemetry)

    assert app.inbound(UNSURE).status_code == 200

    [process] = otel.finished("walker.process")
    assert attributes(process)["walker.outcome"] == "escalated"
    assert attributes(process)["walker.route"] == "escalate:low_confidence:high"
    assert attributes(process)["walker.reason"] == "low_confidence"
    [holding] = otel.finished("walker.send")
    assert attributes(holding)["walker.purpose"] == "holding"
    [escalations] = otel.points("walker.escalations")
    assert dict(escalations.attributes) == {
        "walker.tenant_id": TENANT_A,
        "walker.channel": "whatsapp",
        "walker.reason": "low_confidence",
    }
    assert escalations.value == 1


@pytest.mark.parametrize(("action", "status"), [("approve", "approved"), ("reject", "rejected")])
def test_a_review_decision_is_traced_with_its_send(
    make_app: MakeApp, otel: Otel, action: str, status: str
) -> None:
    app = make_app(telemetry=otel.telemetry)
    app.inbound(UNSURE)
    [item] = app.get(QUEUE).json()["items"]
    body = {"fallback_text": "We will call you back."} if action == "reject" else None

    response = app.post(f"{ADMIN}/hitl/{item['approval_id']}/{action}", body)

    assert response.status_code == 200
    [review] = otel.finished("walker.review")
    assert attributes(review) == {
        "walker.approval_id": item["approval_id"],
        "walker.decision": action,
        "walker.tenant_id": TENANT_A,
        "walker.channel": "whatsapp",
        "walker.outcome": status,
    }
    # The decision's send is part of it, and carries the approval's id.
    send = otel.finished("walker.send")[-1]
    assert send.parent is not None
    assert send.parent.span_id == review.context.span_id
    assert attributes(send)["walker.approval_id"] == item["approval_id"]
    assert attributes(send)["walker.purpose"] == ("approved" if action == "approve" else "fallback")
    assert attributes(send)["walker.outcome"] == "sent"


def test_a_second_decision_ends_its_span_as_an_error_naming_only_the_kind(
    make_app: MakeApp, otel: Otel
) -> None:
    app = make_app(telemetry=otel.telemetry)
    app.inbound(UNSURE)
    [item] = app.get(QUEUE).json()["items"]
    app.post(f"{ADMIN}/hitl/{item['approval_id']}/approve")

    assert app.post(f"{ADMIN}/hitl/{item['approval_id']}/approve").status_code == 409

    second = otel.finished("walker.review")[-1]
    assert attributes(second)["walker.outcome"] == "error"
    assert attributes(second)["walker.error"] == "AlreadyDecided"
    assert second.status.description == "AlreadyDecided"


def test_the_queue_gauges_report_what_waits(make_app: MakeApp, otel: Otel) -> None:
    app = make_app(telemetry=otel.telemetry, walker_webhook_processing="queue")
    for text in ("one", "two"):
        assert app.inbound(text).status_code == 200

    [waiting] = otel.points("walker.queue.waiting")
    [in_progress] = otel.points("walker.queue.in_progress")
    [oldest] = otel.points("walker.queue.oldest_age")

    assert (waiting.value, in_progress.value) == (2, 0)
    assert 0 <= oldest.value < 60


def test_the_flow_logs_one_line_per_step_with_ids_and_outcomes(
    make_app: MakeApp, otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(telemetry=otel.telemetry)
    sid = new_sid()
    caplog.set_level(logging.DEBUG, logger="walker_channels")

    app.inbound(TEXT, sid=sid)
    app.inbound(UNSURE)

    [process] = [
        r
        for r in caplog.records
        if vars(r).get("walker_step") == "process" and vars(r).get("walker_message_id") == sid
    ]
    assert (process.name, process.levelno) == ("walker_channels.flow", logging.INFO)
    extras = {k: v for k, v in vars(process).items() if k.startswith("walker_")}
    assert extras == {
        "walker_step": "process",
        "walker_tenant_id": TENANT_A,
        "walker_channel": "whatsapp",
        "walker_message_id": sid,
        "walker_agent_id": "echo",
        "walker_route": "send",
        "walker_outcome": "replied",
    }
    steps = [vars(r).get("walker_step") for r in caplog.records]
    assert {"accept", "process", "agent", "send"} <= set(steps)
    # No record of the whole flow, from any logger, holds a number or the message's text.
    assert_no_personal_data(
        value
        for record in caplog.records
        for value in (record.getMessage(), *vars(record).values())
    )
