"""The OpenTelemetry side of :class:`~walker_channels.telemetry.Telemetry`: the tracer, the
instruments, and which step outcome counts where. Building it raises ``ModuleNotFoundError``
without the OpenTelemetry API (the ``telemetry`` extra)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from walker_channels.models import QueueStats

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
    from opentelemetry.trace import Span, TracerProvider

    from walker_channels.telemetry.steps import Step

SCOPE = "walker_channels"
"""The instrumentation scope of every span and instrument."""
FAILED_SENDS = frozenset({"failed", "unknown", "error"})
"""Send outcomes counted by ``walker.messages.failed``."""
Figures = Callable[[], "tuple[QueueStats, float] | None"]
"""Reads the watched queue's figures and its oldest waiting age (``None``: unknown)."""


class Instruments:
    """The tracer and instruments of one :class:`~walker_channels.telemetry.Telemetry`."""

    def __init__(
        self,
        figures: Figures,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
    ) -> None:
        from opentelemetry import metrics, trace

        from walker_channels import __version__

        self._tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        self._on_global = tracer_provider is None
        meter = metrics.get_meter(SCOPE, __version__, meter_provider=meter_provider)
        self.accepted = meter.create_counter(
            "walker.messages.accepted", unit="{message}", description="Inbound messages accepted"
        )
        self.sent = meter.create_counter(
            "walker.messages.sent", unit="{message}", description="Messages sent, by purpose"
        )
        self.failed_sends = meter.create_counter(
            "walker.messages.failed",
            unit="{message}",
            description="Sends that failed or whose outcome is unknown, by purpose",
        )
        self.escalations = meter.create_counter(
            "walker.escalations", unit="{message}", description="Messages escalated to review"
        )
        self.agent_duration = meter.create_histogram(
            "walker.agent.duration", unit="s", description="How long the agent took to answer"
        )
        self._figures = figures
        gauges = (
            ("walker.queue.waiting", "{message}", "Messages no worker holds", _waiting),
            ("walker.queue.in_progress", "{message}", "Messages being answered", _in_progress),
            ("walker.queue.oldest_age", "s", "Age of the oldest waiting message", _oldest_age),
        )
        for name, unit, description, pick in gauges:
            meter.create_observable_gauge(
                name, callbacks=[self._observer(pick)], unit=unit, description=description
            )

    @contextlib.contextmanager
    def span(self, step: Step) -> Iterator[Span | None]:
        """The step's span, current while it runs; ``None`` while no SDK is set."""
        from opentelemetry.trace import ProxyTracerProvider, StatusCode

        if self._on_global and isinstance(trace_provider(), ProxyTracerProvider):
            # No SDK set (yet): the API's span would record nothing and costs tens of µs.
            yield None
            return
        with self._tracer.start_as_current_span(
            f"walker.{step.name}", record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                yield span
            finally:
                if step.fields.get("outcome") == "error":
                    span.set_status(StatusCode.ERROR, step.fields.get("error"))

    def count(self, step: Step, seconds: float) -> None:
        """Count the ended ``step`` (it took ``seconds``) in the instrument its outcome names."""
        outcome = step.fields["outcome"]
        if step.name == "accept" and outcome == "accepted":
            self.accepted.add(1, _attributes(step, "channel", "tenant_id"))
        elif step.name == "send" and outcome == "sent":
            self.sent.add(1, _attributes(step, "channel", "tenant_id", "purpose"))
        elif step.name == "send" and outcome in FAILED_SENDS:
            self.failed_sends.add(
                1, _attributes(step, "channel", "tenant_id", "purpose", "outcome")
            )
        elif step.name == "process" and outcome == "escalated":
            self.escalations.add(1, _attributes(step, "channel", "tenant_id", "reason"))
        elif step.name == "agent":
            self.agent_duration.record(
                seconds, _attributes(step, "channel", "tenant_id", "outcome")
            )

    def _observer(
        self, pick: Callable[[QueueStats, float], float]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        from opentelemetry.metrics import Observation

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            figures = self._figures()
            return [] if figures is None else [Observation(pick(*figures))]

        return observe


def trace_provider() -> object:
    """OpenTelemetry's global tracer provider (a proxy until the host sets one)."""
    from opentelemetry import trace

    return trace.get_tracer_provider()


def _attributes(step: Step, *names: str) -> dict[str, str]:
    return {f"walker.{n}": step.fields[n] for n in names if n in step.fields}


def _waiting(stats: QueueStats, age: float) -> float:
    return stats.waiting


def _in_progress(stats: QueueStats, age: float) -> float:
    return stats.in_progress


def _oldest_age(stats: QueueStats, age: float) -> float:
    return age
