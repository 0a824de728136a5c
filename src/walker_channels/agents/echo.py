"""The demo's echo agent: answers with the person's own words, at a configurable confidence."""

from __future__ import annotations

from collections.abc import Callable

from walker_channels.agents.callables import CallableRunner
from walker_channels.models import AgentReply, AgentRequest

EchoConfidence = float | None | Callable[[AgentRequest], float | None]
"""A fixed confidence, or a function of the request (to show escalation in a demo)."""

ECHO_AGENT_ID = "echo"


def echo_agent(
    *,
    confidence: EchoConfidence = 0.9,
    agent_id: str = ECHO_AGENT_ID,
    prefix: str = "Echo: ",
) -> CallableRunner:
    """An agent that replies ``prefix + text`` (or counts the attachments of a text-less message).

    ``confidence`` may be a function, e.g. ``lambda r: 0.2 if "refund" in r.text else 0.9``,
    so a demo can show both a sent reply and one waiting for review.
    """

    async def echo(request: AgentRequest) -> AgentReply:
        score = confidence(request) if callable(confidence) else confidence
        return AgentReply(text=prefix + _said(request), confidence=score, agent_id=agent_id)

    return CallableRunner(echo, agent_id=agent_id)


def _said(request: AgentRequest) -> str:
    if request.text.strip() or not request.media:
        return request.text
    count = len(request.media)
    return f"({count} attachment{'s' if count != 1 else ''})"
