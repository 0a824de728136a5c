"""The steps of the flow: :class:`Telemetry`, its fields, and the decorator of the services.

See :mod:`walker_channels.telemetry` for what is recorded.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypedDict, TypeVar, Unpack

from walker_channels.models import QueueStats
from walker_channels.ports import Clock, InboundQueue
from walker_channels.routing import Route
from walker_channels.telemetry.otel import Instruments
from walker_channels.telemetry.queue import QueueProbe

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

log = logging.getLogger("walker_channels.flow")
T = TypeVar("T")
P = ParamSpec("P")

INHERITED = ("tenant_id", "channel", "message_id", "approval_id")
"""The fields a step takes from the step it runs in, unless it sets them itself."""


class StepFields(TypedDict, total=False):
    """What a step may record: identifiers and outcomes only, so nothing personal leaks."""

    tenant_id: str | None
    channel: str | None
    message_id: str | None
    """The provider's message id (Twilio's MessageSid)."""
    approval_id: str | None
    purpose: str | None
    """Why a message is sent (``reply``, ``approved``, ...)."""
    send_key: str | None
    """The send's ledger key (derived from ids; caller-given parts are hashed)."""
    agent_id: str | None
    decision: str | None
    """A review decision: ``approve``, ``reject`` or ``expire``."""
    route: str | None
    """The confidence route: ``send``, or ``escalate:<reason>:<risk>``."""
    reason: str | None
    """Why a message was escalated."""


class Step:
    """One running step: its fields so far, and its span (``None`` without OpenTelemetry).

    Besides :class:`StepFields` it ends with ``outcome`` (how it ended: the result's outcome,
    ``error`` or ``cancelled``) and, after an exception, ``error`` (its type, never its text).
    """

    def __init__(self, name: str, fields: Mapping[str, object], span: Span | None = None) -> None:
        self.name = name
        self.fields: dict[str, str] = {}
        self.span = span
        self.note(fields)

    def note(self, fields: Mapping[str, object]) -> None:
        """Add ``fields`` (``None`` values are left out) to the step and its span."""
        for key, value in fields.items():
            if value is None:
                continue
            self.fields[key] = str(value)
            if self.span is not None:
                self.span.set_attribute(f"walker.{key}", str(value))

    def extra(self) -> dict[str, str]:
        """The log record extras of this step: ``walker_step`` and ``walker_<field>``."""
        return {"walker_step": self.name} | {f"walker_{k}": v for k, v in self.fields.items()}


_CURRENT: ContextVar[Step | None] = ContextVar("walker_channels_step", default=None)


class Telemetry:
    """The flow's spans, metrics and step log lines (see the module docstring).

    ``tracer_provider`` and ``meter_provider`` default to OpenTelemetry's global ones, which
    are no-ops until the host sets an SDK's. Tests pass their own.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._probe: QueueProbe | None = None
        try:
            self._otel: Instruments | None = Instruments(
                self.queue_figures, tracer_provider, meter_provider
            )
        except ModuleNotFoundError:
            self._otel = None  # the telemetry extra is not installed: log lines only

    async def traced(
        self,
        name: str,
        work: Awaitable[T],
        *,
        outcome: Callable[[T], str] = str,
        **fields: Unpack[StepFields],
    ) -> T:
        """Await ``work`` as the step ``name``; its result's ``outcome`` names how it ended.

        An exception ends the step as ``error`` (its type recorded) and is raised on.
        """
        parent = _CURRENT.get()
        inherited = {k: v for k, v in (parent.fields if parent else {}).items() if k in INHERITED}
        given = {k: v for k, v in fields.items() if v is not None}
        step = Step(name, {**inherited, **given})
        token = _CURRENT.set(step)
        started = time.perf_counter()
        try:
            with self._span(step):
                try:
                    result = await work
                except Exception as exc:
                    step.note({"outcome": "error", "error": type(exc).__name__})
                    raise
                except BaseException:  # cancelled (a timeout, a shutdown)
                    step.note({"outcome": "cancelled"})
                    raise
                step.note({"outcome": outcome(result)})
                return result
        finally:
            _CURRENT.reset(token)
            step.fields.setdefault("outcome", "cancelled")
            if self._otel is not None:
                self._otel.count(step, time.perf_counter() - started)
            if log.isEnabledFor(logging.INFO):  # the extras are built for a record only
                subject = step.fields.get("message_id") or step.fields.get("approval_id") or "-"
                log.info("%s %s: %s", name, subject, step.fields["outcome"], extra=step.extra())

    def note(self, **fields: Unpack[StepFields]) -> None:
        """Add ``fields`` to the step running now (nothing when none runs)."""
        step = _CURRENT.get()
        if step is not None:
            step.note(fields)

    def log_extra(self) -> dict[str, str]:
        """The running step's extras, for a log line of its own (``{}`` outside a step)."""
        step = _CURRENT.get()
        return step.extra() if step is not None else {}

    def watch_queue(self, queue: InboundQueue, clock: Clock) -> None:
        """Report ``queue``'s figures through the gauges; call it on the services' loop.

        A metric reader collects from its own thread: each collection reads
        :meth:`InboundQueue.stats` on this loop (once for all the gauges).
        """
        self._probe = QueueProbe(queue, clock)

    def unwatch_queue(self, queue: InboundQueue) -> None:
        """Stop reporting ``queue`` (when its services close)."""
        if self._probe is not None and self._probe.queue is queue:
            self._probe = None

    def queue_figures(self) -> tuple[QueueStats, float] | None:
        """The watched queue's figures and the oldest waiting age (s); ``None``: unknown."""
        probe = self._probe
        return None if probe is None else probe.read()

    @contextlib.contextmanager
    def _span(self, step: Step) -> Iterator[None]:
        if self._otel is None:
            yield
            return
        with self._otel.span(step) as span:
            step.span = span
            step.note(dict(step.fields))
            yield


class Instrumented(Protocol):
    """A service whose steps :func:`traced_step` traces: it holds its :class:`Telemetry`."""

    _telemetry: Telemetry


S = TypeVar("S", bound=Instrumented)
Method = Callable[Concatenate[S, P], Awaitable[T]]


class StepDecorator(Protocol):
    """What :func:`traced_step` returns: a decorator keeping the method's signature."""

    def __call__(self, method: Method[S, P, T], /) -> Method[S, P, T]:
        """The traced method."""
        ...


def traced_step(
    name: str,
    fields: Callable[..., StepFields] | None = None,
    *,
    outcome: Callable[[Any], object] = str,
    **given: Unpack[StepFields],
) -> StepDecorator:
    """Run the decorated service method as the step ``name`` of :meth:`Telemetry.traced`.

    ``fields`` takes the method's arguments and returns the step's fields, ``given`` are
    fixed ones, and the method can add more with :meth:`Telemetry.note`; ``outcome`` names
    how a result ended (``str`` of the result by default: the flow's outcomes are StrEnums).
    """

    def decorate(method: Method[S, P, T]) -> Method[S, P, T]:
        @wraps(method)
        async def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            known = given | (fields(self, *args, **kwargs) if fields is not None else {})
            work = method(self, *args, **kwargs)
            return await self._telemetry.traced(name, work, outcome=_named(outcome), **known)

        return run

    return decorate


def _named(outcome: Callable[[Any], object]) -> Callable[[Any], str]:
    return lambda result: str(outcome(result))


def route_label(route: Route) -> str:
    """The confidence route as a span attribute: ``send``, or ``escalate:<reason>:<risk>``."""
    if route.send:
        return "send"
    return f"escalate:{route.reason or '-'}:{route.risk_level or '-'}"


@cache
def default_telemetry() -> Telemetry:
    """The process's one :class:`Telemetry` on the global providers (its gauges made once)."""
    return Telemetry()
