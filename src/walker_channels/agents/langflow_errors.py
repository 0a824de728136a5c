"""Which typed error a Langflow ``/run`` answer's HTTP status becomes (pure).

Configuration faults (a redirect, a refused key, a flow the key's user does not own, an unknown
flow) are :class:`AgentMisconfigured`, since only an operator can fix them; every other failure
is an :class:`AgentError` carrying Langflow's own short reason.
"""

from __future__ import annotations

from pydantic import SecretStr

from walker_channels.exceptions import AgentError, AgentMisconfigured

RETRYABLE_STATUSES = frozenset({429, 502, 503})
"""Statuses after which the flow did not produce a reply, so one more try is worth it."""


def error_for_status(status: int, *, flow: str, detail: str, attempts: int = 1) -> AgentError:
    """The error for a non-2xx ``status``; ``detail`` is Langflow's reason, already redacted."""
    said = f"HTTP {status}: {detail}"
    if 300 <= status < 400:
        return AgentMisconfigured(
            f"Langflow redirected the run of flow {flow!r} (HTTP {status}): set "
            "LANGFLOW_BASE_URL to the address Langflow serves on (scheme, host and prefix)"
        )
    if status in {401, 403}:
        return AgentMisconfigured(
            f"Langflow refused to run flow {flow!r} ({said}): check LANGFLOW_API_KEY and "
            "that the key belongs to the user who owns the flow"
        )
    if status == 404:
        return AgentMisconfigured(
            f"Langflow has no flow {flow!r} ({said}): check LANGFLOW_FLOW_ID and the flow maps"
        )
    if 400 <= status < 500 and status != 429:
        return AgentError(
            f"Langflow rejected the run request for flow {flow!r} ({said}): check the tweaks "
            "and that the flow starts with a Chat Input"
        )
    retried = status in RETRYABLE_STATUSES and attempts > 1
    tries = f" after {attempts} attempts" if retried else ""
    return AgentError(f"Langflow flow {flow!r} failed{tries} ({said})")


def redact(text: str, secret: SecretStr | None) -> str:
    """``text`` with the API key replaced, in case a server echoes it back."""
    key = secret.get_secret_value() if secret is not None else ""
    return text.replace(key, "[redacted]") if key else text
