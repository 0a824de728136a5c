"""Asking the email agent for a brief's recommendations, without ever failing the brief."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from pydantic import Field

from walker_channels.models import (
    Address,
    AgentReply,
    AgentRequest,
    BriefMetric,
    CampaignUpdate,
    Channel,
)
from walker_channels.models.base import Frozen, JsonObject
from walker_channels.ports import AgentRunner, Clock
from walker_channels.services.agent_call import ask_agent
from walker_channels.services.email.config import BriefConfig

UNAVAILABLE_NOTE = "Recommendations are not available today."
EMPTY_NOTE = "The email agent has no recommendations today."
NO_AGENT = "no_agent"

_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s*")


class Recommendations(Frozen):
    """The agent's advice for one brief, or notes on why there is none."""

    items: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """Shown to the reader in the brief."""
    failure: str | None = None
    """Why there are none: ``no_agent``, or the agent's failure (timeout, error, invalid reply)."""
    reply: AgentReply | None = None
    session_id: str | None = None
    response_time_ms: float | None = Field(default=None, ge=0)


def brief_session_id(tenant_id: str, participant: str, day: date) -> str:
    """The agent session of one brief: per tenant, reader (pseudonym) and day."""
    return f"{tenant_id}:{Channel.EMAIL.value}:{participant}:brief:{day.isoformat()}"


async def ask_for_recommendations(
    agent: AgentRunner | None,
    *,
    tenant_id: str,
    to: Address,
    participant: str,
    day: date,
    analytics: Sequence[BriefMetric],
    updates: Sequence[CampaignUpdate],
    config: BriefConfig,
    clock: Clock,
) -> Recommendations:
    """Run the agent under its timeout; its failures become a note, never an exception."""
    if agent is None:
        return Recommendations(notes=(UNAVAILABLE_NOTE,), failure=NO_AGENT)
    session_id = brief_session_id(tenant_id, participant, day)
    request = AgentRequest(
        tenant_id=tenant_id,
        session_id=session_id,
        channel=Channel.EMAIL,
        participant=to,
        text=_prompt(day, analytics, updates, config.max_recommendations),
        agent_id=config.agent_id,
        metadata=_metadata(day, analytics, updates),
    )
    turn = await ask_agent(agent, request, time_limit=config.agent_timeout, clock=clock)
    if turn.reply is None:
        return Recommendations(
            notes=(UNAVAILABLE_NOTE,),
            failure=turn.failure.value if turn.failure is not None else "agent_error",
            session_id=session_id,
            response_time_ms=turn.response_time_ms,
        )
    items = parse_recommendations(turn.reply.text, limit=config.max_recommendations)
    return Recommendations(
        items=items,
        notes=() if items else (EMPTY_NOTE,),
        reply=turn.reply,
        session_id=session_id,
        response_time_ms=turn.response_time_ms,
    )


def parse_recommendations(text: str, *, limit: int) -> tuple[str, ...]:
    """One recommendation per non-empty line, list markers (``-``, ``*``, ``1.``) removed."""
    lines = (_BULLET.sub("", line).strip() for line in text.splitlines())
    return tuple(line for line in lines if line)[:limit]


def _prompt(
    day: date, analytics: Sequence[BriefMetric], updates: Sequence[CampaignUpdate], limit: int
) -> str:
    figures = "; ".join(f"{m.label}: {m.value}{m.unit}" for m in analytics) or "none"
    news = "; ".join(f"{u.name} ({u.status}) {u.summary}".strip() for u in updates) or "none"
    return (
        f"Write at most {limit} short, concrete recommendations for today's brief "
        f"({day.isoformat()}), one per line.\n"
        f"Analytics: {figures}\nCampaign updates: {news}"
    )


def _metadata(
    day: date, analytics: Sequence[BriefMetric], updates: Sequence[CampaignUpdate]
) -> JsonObject:
    return {
        "purpose": "daily_brief",
        "brief_date": day.isoformat(),
        "analytics": [metric.model_dump(mode="json") for metric in analytics],
        "campaign_updates": [update.model_dump(mode="json") for update in updates],
    }
