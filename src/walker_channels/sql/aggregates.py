"""The admin aggregates as SQL statements over ``walker_events`` (definitions: ``metrics``).

Each builder takes the WHERE conditions of one admin query (scope, dates, channel) and
returns a statement whose result is a handful of rows, never the events themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from walker_channels.metrics import CONFIDENCE_BUCKETS, LOG_BUCKET_WIDTH, ZERO_BUCKET
from walker_channels.models import Channel, EventType, Scope
from walker_channels.sql.dialect import SqlDialect
from walker_channels.sql.scope import scope_filter
from walker_channels.sql.tables import events

Where = list[sa.ColumnElement[bool]]
Statement = sa.Select[*tuple[Any, ...]]
"""A SELECT with any number of columns."""
_e = events.c
OUTCOME = _e.hitl.is_not(None)
"""Rows of agent outcomes: ``hitl`` is set exactly for them (``metrics.event_hitl``)."""
ESCALATION = _e.hitl.is_(True)
"""Agent outcomes that went to a human."""


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


def breakdown(dialect: SqlDialect, where: Where, by: Sequence[sa.Column[Any]] = ()) -> Statement:
    """Counts and response-time sums in one pass: rows of (agent, type, hitl, bucket, hour,
    success, n, ...), after the columns ``by`` (of ``walker_events``) if given.

    Grouping by type, ``hitl`` (set for agent outcomes only, so it tells them apart), agent
    and confidence bucket (agent outcomes) and UTC hour (inbound messages) yields a few
    hundred rows from which the totals, the outcomes, the mean response time, the buckets,
    the hourly distribution, the busiest agents and the mean sentiment of the inbound
    messages are all summed up, instead of one pass over the events for each of them.
    """
    n: sa.ColumnClause[Any] = sa.literal_column(str(CONFIDENCE_BUCKETS))
    last: sa.ColumnClause[Any] = sa.literal_column(str(CONFIDENCE_BUCKETS - 1))
    scaled = dialect.floor_int(_e.confidence * n)
    bucket = sa.case((_e.confidence >= sa.literal_column("1.0"), last), else_=scaled)
    hour = dialect.hour_of_day(_e.occurred_at)
    # A subquery, so that GROUP BY names its columns and PostgreSQL need not match the
    # CASE expressions (with their bound parameters) a second time.
    rows = (
        sa.select(
            *by,
            sa.case((OUTCOME, _e.agent_id)).label("agent_id"),
            _e.type,
            _e.hitl,
            sa.case((OUTCOME, bucket)).label("bucket"),
            sa.case((is_type(EventType.INBOUND), hour)).label("hour"),
            sa.case((OUTCOME, _e.response_time_ms)).label("response"),
            sa.case((is_type(EventType.INBOUND), _e.sentiment)).label("sentiment"),
            _e.success,
        )
        .where(*where)
        .subquery()
    )
    named = ("agent_id", "type", "hitl", "bucket", "hour", "success")
    keys = [rows.c[column.name] for column in by] + [rows.c[name] for name in named]
    return sa.select(
        *keys,
        sa.func.count().label("n"),
        sa.func.sum(rows.c.response).label("response_sum"),
        sa.func.count(rows.c.response).label("responses"),
        sa.func.sum(rows.c.sentiment).label("sentiment_sum"),
        sa.func.count(rows.c.sentiment).label("sentiments"),
    ).group_by(*keys)


def participants(where: Where, by: Sequence[sa.Column[Any]] = ()) -> Statement:
    """The distinct participants, after the columns ``by`` (of ``walker_events``) if given."""
    keys = (*by, _e.participant)
    return sa.select(*keys).where(*where).group_by(*keys)


def unique_users(where: Where) -> Statement:
    """Distinct participants (a hash aggregate: ``count(DISTINCT)`` sorts on PostgreSQL)."""
    return sa.select(sa.func.count()).select_from(participants(where).subquery())


def unknown_recipients(where: Where) -> Statement:
    """Inbound messages stored without a tenant (``metrics.is_unknown_recipient``)."""
    unknown = (is_type(EventType.INBOUND), _e.tenant_id.is_(None))
    return sa.select(sa.func.count()).select_from(events).where(*where, *unknown)


def response_histogram(where: Where, by: Sequence[sa.Column[Any]] = ()) -> Statement:
    """The log histogram of the agent outcomes' response times: rows of (bucket, n, low,
    high), a few hundred whatever the number of events (``metrics.response_percentiles``),
    after the columns ``by`` (of ``walker_events``) if given.

    The bucket is ``metrics.response_bucket`` in SQL; SQLite builds without math functions
    get ``ln`` and ``floor`` from ``engine``.
    """
    value = _e.response_time_ms
    width: sa.ColumnClause[Any] = sa.literal_column(repr(LOG_BUCKET_WIDTH))
    zero: sa.ColumnClause[Any] = sa.literal_column(str(ZERO_BUCKET))
    bucket = sa.case((value == 0, zero), else_=sa.func.floor(sa.func.ln(value) / width))
    rows = (
        sa.select(*by, bucket.label("bucket"), value.label("v"))
        .where(*where, OUTCOME, value.is_not(None))
        .subquery()
    )
    keys = [rows.c[column.name] for column in by] + [rows.c.bucket]
    return sa.select(*keys, sa.func.count(), sa.func.min(rows.c.v), sa.func.max(rows.c.v)).group_by(
        *keys
    )


def handoffs(where: Where) -> Statement:
    """Per agent: handoffs started and human replies (``metrics`` attributes both)."""
    started = is_type(EventType.HANDOFF_STARTED)
    replies = is_type(EventType.HUMAN_REPLY)
    return (
        sa.select(
            _e.agent_id,
            count_if(started).label("handoffs"),
            count_if(replies).label("human_replies"),
        )
        .where(*where, sa.or_(started, replies), _e.agent_id.is_not(None))
        .group_by(_e.agent_id)
    )


def agent_sentiment(where: Where) -> Statement:
    """Per agent: the sum and count of the scores of the scored inbound messages of the
    sessions it answered in, rows of (agent_id, sentiment_sum, sentiments) (``metrics``).

    ``where`` holds for both sides: the outcomes and the messages are both in the range.
    Each side is first grouped by session, so the join is of two small derived tables (a
    join of the events themselves on ``session_id``, which no index covers, took SQLite
    minutes for 20,000 events).
    """
    session = (_e.tenant_id, _e.session_id)
    answered = (
        sa.select(_e.agent_id, *session)
        .where(*where, OUTCOME, _e.agent_id.is_not(None), _e.session_id.is_not(None))
        .group_by(_e.agent_id, *session)
        .subquery()
    )
    scored = (
        sa.select(
            *session,
            sa.func.sum(_e.sentiment).label("total"),
            sa.func.count(_e.sentiment).label("n"),
        )
        .where(*where, is_type(EventType.INBOUND), _e.sentiment.is_not(None))
        .group_by(*session)
        .subquery()
    )
    same_session = sa.and_(
        scored.c.tenant_id == answered.c.tenant_id, scored.c.session_id == answered.c.session_id
    )
    return (
        sa.select(
            answered.c.agent_id,
            sa.func.sum(scored.c.total).label("sentiment_sum"),
            sa.func.sum(scored.c.n).label("sentiments"),
        )
        .select_from(answered.join(scored, same_session))
        .group_by(answered.c.agent_id)
    )


def _error() -> sa.ColumnElement[int]:
    return sa.case((_e.is_error, 1), else_=0)


def agent_summary(dialect: SqlDialect, where: Where, seconds: int) -> Statement:
    """Per agent in one pass: interactions, sums for the means, outcome counts and windows.

    ``where`` selects the rows to count: the caller restricts it to agent outcomes.

    The inner query groups by agent and uptime window; the outer one adds the windows up,
    so the per-agent figures and the uptime share one pass over the events. Means are
    returned as (sum, count) pairs, divided by the caller.
    """
    window = dialect.time_window(_e.occurred_at, seconds).label("w")
    per_window = (
        sa.select(
            _e.agent_id,
            window,
            sa.func.count().label("n"),
            sa.func.sum(_e.response_time_ms).label("response_sum"),
            sa.func.count(_e.response_time_ms).label("responses"),
            sa.func.sum(_e.confidence).label("confidence_sum"),
            sa.func.count(_e.confidence).label("confidences"),
            count_if(ESCALATION).label("escalated"),
            count_if(is_type(EventType.OUTBOUND)).label("sent"),
            count_if(is_type(EventType.OUTBOUND_FAILED)).label("failed"),
            sa.func.sum(_error()).label("errors"),
        )
        .where(*where)
        .group_by(_e.agent_id, window)
        .subquery()
    )
    w = per_window.c
    added = (w.n, w.response_sum, w.responses, w.confidence_sum, w.confidences)
    counted = (w.escalated, w.sent, w.failed, w.errors)
    sums = (sa.func.sum(column).label(column.name) for column in (*added, *counted))
    return sa.select(
        w.agent_id,
        *sums,
        sa.func.count().label("windows"),
        count_if(w.errors == 0).label("clean"),
    ).group_by(w.agent_id)
