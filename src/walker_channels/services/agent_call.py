"""One agent turn under a timeout: a usable reply, or the reason there is none."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from pydantic import ValidationError

from walker_channels.exceptions import AgentError, AgentTimeout, InvalidAgentReply
from walker_channels.models import AgentReply, AgentRequest, EscalationReason
from walker_channels.models.base import Frozen
from walker_channels.ports import AgentRunner, Clock

log = logging.getLogger(__name__)


class AgentTurn(Frozen):
    """The agent's reply (``None`` when it failed, with ``failure`` saying how) and its time."""

    reply: AgentReply | None = None
    failure: EscalationReason | None = None
    response_time_ms: float

    @property
    def outcome(self) -> str:
        """``reply``, or the failure's reason: how the turn ended (for telemetry)."""
        return "reply" if self.reply is not None else str(self.failure or "agent_error")


async def ask_agent(
    agent: AgentRunner, request: AgentRequest, *, time_limit: timedelta, clock: Clock
) -> AgentTurn:
    """Run ``agent`` on ``request`` for at most ``time_limit``; never raises for the agent's faults.

    Timeouts, agent errors and replies that are not valid (junk, blank text) come back as a
    failure reason, so the caller can escalate instead of losing the message.
    """
    started = clock.now()
    reply: AgentReply | None = None
    failure: EscalationReason | None = None
    try:
        async with asyncio.timeout(time_limit.total_seconds()):
            answer = await agent.run(request)
        reply = _checked(answer)
    except (TimeoutError, AgentTimeout):
        failure = EscalationReason.AGENT_TIMEOUT
    except (InvalidAgentReply, ValidationError):
        failure = EscalationReason.INVALID_REPLY
    except AgentError:
        failure = EscalationReason.AGENT_ERROR
    except Exception as exc:
        # The runner is host code that broke its contract (it should raise AgentError). The
        # person still gets the holding message and a reviewer the case, instead of the message
        # waiting for recovery; only the type is logged, as the text may quote the message.
        log.warning("agent runner raised %s; escalating", type(exc).__name__)
        failure = EscalationReason.AGENT_ERROR
    elapsed = (clock.now() - started) / timedelta(milliseconds=1)
    return AgentTurn(reply=reply, failure=failure, response_time_ms=max(elapsed, 0.0))


def _checked(answer: object) -> AgentReply:
    # Validate again even an AgentReply instance: model_construct skips validation.
    data = answer.model_dump() if isinstance(answer, AgentReply) else answer
    reply = AgentReply.model_validate(data)
    if not reply.text.strip():
        raise InvalidAgentReply("the agent replied with empty text")
    return reply
