"""The admin aggregates as SQL statements over ``walker_events`` (definitions: ``metrics``).

Each builder takes the WHERE conditions of one admin query (scope, dates, channel) and
returns a statement whose result is a handful of rows, never the events themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from walker_channels.metrics import AGENT_OUTCOMES, CONFIDENCE_BUCKETS, TOP_AGENTS
from walker_channels.models import Channel, EventType, Scope
from walker_channels.sql.dialect import SqlDialect
from walker_channels.sql.scope import scope_filter
from walker_channels.sql.tables import events

Where = list[sa.ColumnElement[bool]]
Statement = sa.Select[*tuple[Any, ...]]
"""A SELECT with any number of columns."""
_e = events.c
OUTCOME = _e.type.in_(sorted(t.value for t in AGENT_OUTCOMES))


def filters(
    scope: Scope, start: datetime | None, end: datetime | None, channel: Channel | None
) -> Where:
    """The conditions every admin read shares: tenant scope, ``[start, end)``, channel."""
    conditions = [scope_filter(scope, _e.tenant_id)]
    if start is not None:
        conditions.append(_e.occurred_at >= start)
    if end is not None:
        conditions.append(_e.occurred_at < end)
    if channel is not None:
        conditions.append(_e.channel == channel.value)
    return conditions


def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """``count`` of the rows where ``condition`` holds (portable ``FILTER``)."""
    return sa.func.count(sa.case((condition, 1)))


def is_type(event_type: EventType) -> sa.ColumnElement[bool]:
    """Rows of one event type."""
    return _e.type == event_type.value


def totals(where: Where) -> Statement:
    """Counts per type and the mean response time of agent outcomes."""
    return sa.select(
        count_if(is_type(EventType.INBOUND)).label("inbound"),
        count_if(is_type(EventType.OUTBOUND)).label("outbound"),
        count_if(is_type(EventType.OUTBOUND_FAILED)).label("failed"),
        count_if(is_type(EventType.ESCALATED)).label("escalated"),
        sa.func.avg(sa.case((OUTCOME, _e.response_time_ms))).label("avg_response"),
    ).where(*where)


def unique_users(where: Where) -> Statement:
    """Distinct participants (a hash aggregate: ``count(DISTINCT)`` sorts on PostgreSQL)."""
    people = sa.select(_e.participant).where(*where).group_by(_e.participant).subquery()
    return sa.select(sa.func.count()).select_from(people)


def hourly(dialect: SqlDialect, where: Where) -> Statement:
    """Inbound messages per UTC hour: rows of (hour, count)."""
    hour = dialect.hour_of_day(_e.occurred_at).label("hour")
    return sa.select(hour, sa.func.count()).where(*where, is_type(EventType.INBOUND)).group_by(hour)


def confidence_buckets(dialect: SqlDialect, where: Where) -> Statement:
    """Agent outcomes per confidence bucket: rows of (bucket index, count)."""
    # Inlined constants: PostgreSQL must see the same expression in SELECT and GROUP BY.
    n: sa.ColumnClause[Any] = sa.literal_column(str(CONFIDENCE_BUCKETS))
    last: sa.ColumnClause[Any] = sa.literal_column(str(CONFIDENCE_BUCKETS - 1))
    scaled = dialect.floor_int(_e.confidence * n)
    index = sa.case((_e.confidence >= sa.literal_column("1.0"), last), else_=scaled).label("b")
    return (
        sa.select(index, sa.func.count())
        .where(*where, OUTCOME, _e.confidence.is_not(None))
        .group_by(index)
    )


def response_times(where: Where) -> sa.Subquery:
    """The response times of agent outcomes, as column ``v``."""
    return (
        sa.select(_e.response_time_ms.label("v"))
        .where(*where, OUTCOME, _e.response_time_ms.is_not(None))
        .subquery()
    )


def top_agents(where: Where) -> Statement:
    """The busiest agents: rows of (agent id, interactions)."""
    interactions = sa.func.count().label("interactions")
    return (
        sa.select(_e.agent_id, interactions)
        .where(*where, OUTCOME, _e.agent_id.is_not(None))
        .group_by(_e.agent_id)
        .order_by(interactions.desc(), _e.agent_id)
        .limit(TOP_AGENTS)
    )


def _error() -> sa.ColumnElement[int]:
    return sa.case((_e.is_error, 1), else_=0)


def per_agent(where: Where) -> Statement:
    """Per agent: interactions, means, and counts by outcome, busiest first."""
    interactions = sa.func.count().label("interactions")
    return (
        sa.select(
            _e.agent_id,
            interactions,
            sa.func.avg(_e.response_time_ms).label("avg_response"),
            sa.func.avg(_e.confidence).label("avg_confidence"),
            count_if(is_type(EventType.ESCALATED)).label("escalated"),
            count_if(is_type(EventType.OUTBOUND)).label("sent"),
            count_if(is_type(EventType.OUTBOUND_FAILED)).label("failed"),
            sa.func.sum(_error()).label("errors"),
        )
        .where(*where)
        .group_by(_e.agent_id)
        .order_by(interactions.desc(), _e.agent_id)
    )


def agent_windows(dialect: SqlDialect, where: Where, seconds: int) -> Statement:
    """Per agent: time windows with traffic, and how many of them had no error."""
    window = dialect.time_window(_e.occurred_at, seconds).label("w")
    windows = (
        sa.select(_e.agent_id, window, sa.func.max(_error()).label("err"))
        .where(*where)
        .group_by(_e.agent_id, window)
        .subquery()
    )
    return sa.select(
        windows.c.agent_id,
        sa.func.count().label("windows"),
        sa.func.count(sa.case((windows.c.err == 0, 1))).label("clean"),
    ).group_by(windows.c.agent_id)
