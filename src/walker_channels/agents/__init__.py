"""Agent runners: Langflow flows over HTTP, and any Python callable (the demo's echo agent too).

Each is an :class:`~walker_channels.ports.AgentRunner`; the reply extraction for Langflow is
pure and lives in :mod:`walker_channels.agents.extract`.
"""

from __future__ import annotations

from walker_channels.agents.callables import AgentCallable, AgentResult, CallableRunner
from walker_channels.agents.echo import ECHO_AGENT_ID, EchoConfidence, echo_agent
from walker_channels.agents.langflow import LangflowConfig, LangflowRunner
from walker_channels.agents.langflow_errors import RETRYABLE_STATUSES

__all__ = [
    "ECHO_AGENT_ID",
    "RETRYABLE_STATUSES",
    "AgentCallable",
    "AgentResult",
    "CallableRunner",
    "EchoConfidence",
    "LangflowConfig",
    "LangflowRunner",
    "echo_agent",
]
