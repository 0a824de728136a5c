"""Agent runners: Langflow flows over HTTP, and any Python callable (the demo's echo agent too).

Each is an :class:`~walker_channels.ports.AgentRunner`; the reply extraction for Langflow is
pure and lives in :mod:`walker_channels.agents.extract`, and the message content as text (for
runners that take one string) in :mod:`walker_channels.agents.content`.
"""

from __future__ import annotations

from walker_channels.agents.callables import AgentCallable, AgentResult, CallableRunner
from walker_channels.agents.content import (
    CONTENT_END,
    CONTENT_START,
    content_json,
    text_with_content,
)
from walker_channels.agents.echo import ECHO_AGENT_ID, EchoConfidence, echo_agent
from walker_channels.agents.langflow import LangflowConfig, LangflowRunner
from walker_channels.agents.langflow_errors import RETRYABLE_STATUSES

__all__ = [
    "CONTENT_END",
    "CONTENT_START",
    "ECHO_AGENT_ID",
    "RETRYABLE_STATUSES",
    "AgentCallable",
    "AgentResult",
    "CallableRunner",
    "EchoConfidence",
    "LangflowConfig",
    "LangflowRunner",
    "content_json",
    "echo_agent",
    "text_with_content",
]
