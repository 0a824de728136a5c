"""Spans, metrics and log lines of the main flow, through the OpenTelemetry API only.

:meth:`Telemetry.traced` runs one step of the flow (``accept``, ``process``, ``agent``,
``send``, ``review``) in a span named ``walker.<step>``, counts what it did, and logs one
INFO line for it on the ``walker_channels.flow`` logger. The span's attributes
(``walker.<field>``) and the log record's extras (``walker_<field>``) are the same
:class:`StepFields`: ids, channels, outcomes and reasons, never message text, an address or a
secret. A step inside another inherits the ids it does not set (a send inside ``process``
carries the message id), so every line of one message's work can be found by its id.

Without the ``telemetry`` extra (``opentelemetry-api``) the spans and metrics are skipped and
only the log lines remain; with the API but no SDK, the API's own no-op providers are used.
A host that installs the OpenTelemetry SDK and sets its global providers (or passes its own
to :class:`Telemetry`) gets everything. docs/scaling.md lists the spans and instruments.
"""

from walker_channels.telemetry.steps import (
    Instrumented,
    Step,
    StepDecorator,
    StepFields,
    Telemetry,
    default_telemetry,
    route_label,
    traced_step,
)

__all__ = [
    "Instrumented",
    "Step",
    "StepDecorator",
    "StepFields",
    "Telemetry",
    "default_telemetry",
    "route_label",
    "traced_step",
]
