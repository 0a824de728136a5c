"""Helpers of ``bench_admin_queries``: bulk SQL loading, and the percentiles' accuracy.

``bench_admin_queries`` loads through ``SqlEventStore.append_many`` to measure that path; to
study the admin queries alone at 1M events this module writes the same traffic (10 tenants,
20 agents, 50,000 people over 90 days in time order; 45 % inbound, 40 % sent, 5 % failed,
10 % escalated; log-normal response times, uniform confidence) with one ``INSERT ... SELECT``
over ``generate_series`` per chunk on PostgreSQL (``setseed`` makes it reproducible). The
rows are what ``event_row`` stores for such events, ``data`` included, so the Python baseline
can read them back into models. :func:`percentile_errors` compares the stats' estimated
percentiles with PostgreSQL's exact ``percentile_cont``.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from walker_channels.metrics import PERCENTILES
from walker_channels.models import Scope, StatsQuery
from walker_channels.sql import SqlStores

CHUNK = 250_000
ALL_TENANTS = Scope(tenant_ids=None)
FAILING_REASONS = ("agent_error", "agent_timeout", "invalid_reply")
REASONS = ("low_confidence", "missing_confidence", *FAILING_REASONS, "negative_sentiment")

# One row per n in [:first, :last): the draws come from one CTE so that each is made once
# (random() is volatile: PostgreSQL never inlines such a CTE).
_ROWS = """
WITH draws AS (
    SELECT n, random() AS kind, random() AS chan, random() AS at, random() AS conf,
           1.0 - random() AS u1, random() AS u2,
           floor(random() * 10)::int AS tenant, floor(random() * 20)::int AS agent,
           floor(random() * 50000)::int AS person, floor(random() * {reasons})::int AS reason
    FROM generate_series(:first, :last - 1) AS n
), typed AS (
    SELECT *,
        CASE WHEN kind < 0.45 THEN 'inbound' WHEN kind < 0.85 THEN 'outbound'
             WHEN kind < 0.90 THEN 'outbound_failed' ELSE 'escalated' END AS type,
        (ARRAY[{reason_list}])[reason + 1] AS why,
        exp(7 + 0.6 * sqrt(-2 * ln(u1)) * cos(2 * pi() * u2)) AS response
    FROM draws
)
INSERT INTO walker_events (id, tenant_id, channel, type, direction, occurred_at, participant,
    agent_id, confidence, response_time_ms, hitl, success, is_error, provider_message_id,
    session_id, idempotency_key, data)
SELECT md5(:seed || '-' || n), 'tenant-' || tenant,
    CASE WHEN chan < 2.0 / 3 THEN 'whatsapp' ELSE 'sms' END, type,
    CASE type WHEN 'inbound' THEN 'inbound' WHEN 'escalated' THEN 'internal'
        ELSE 'outbound' END,
    :start + :span * ((n + at) / :total),
    md5('person-' || person),
    CASE WHEN type <> 'inbound' THEN 'agent-' || agent END,
    CASE WHEN type <> 'inbound' THEN conf END,
    CASE WHEN type <> 'inbound' THEN response END,
    CASE type WHEN 'inbound' THEN NULL WHEN 'escalated' THEN true ELSE false END,
    CASE type WHEN 'outbound' THEN true WHEN 'outbound_failed' THEN false END,
    type = 'outbound_failed' OR (type = 'escalated' AND why IN ({failing})),
    NULL, NULL, NULL,
    CASE type
        WHEN 'inbound' THEN jsonb_build_object('data', '{{}}'::jsonb,
            'text', 'Hello, can you tell me when my order arrives?', 'media_count', 0,
            'sentiment', NULL)
        WHEN 'outbound' THEN jsonb_build_object('data', '{{}}'::jsonb,
            'agent_id', 'agent-' || agent, 'confidence', conf, 'response_time_ms', response,
            'text', 'Your order ships tomorrow morning.', 'hitl', false)
        WHEN 'outbound_failed' THEN jsonb_build_object('data', '{{}}'::jsonb,
            'agent_id', 'agent-' || agent, 'confidence', conf, 'response_time_ms', response,
            'text', '', 'hitl', false, 'error_code', '30003', 'error_message', '',
            'retryable', false, 'outcome_unknown', false)
        ELSE jsonb_build_object('data', '{{}}'::jsonb, 'agent_id', 'agent-' || agent,
            'confidence', conf, 'response_time_ms', response, 'approval_id', 'x',
            'reason', why, 'risk_level', 'low')
    END
FROM typed
"""


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{name}'" for name in names)


INSERT = sa.text(
    _ROWS.format(
        reasons=len(REASONS), reason_list=_quoted(REASONS), failing=_quoted(FAILING_REASONS)
    )
)


async def load_postgresql(
    stores: SqlStores, first: int, last: int, seed: int, span: dict[str, Any]
) -> float:
    """Insert events ``first`` to ``last - 1`` of ``span["total"]``; returns rows per second."""
    started = time.perf_counter()
    for low in range(first, last, CHUNK):
        params = {**span, "first": low, "last": min(low + CHUNK, last), "seed": str(seed)}
        async with stores.engine.begin() as conn:
            # A seed per chunk keeps a chunk's rows the same whatever ran before it.
            await conn.execute(
                sa.text("SELECT setseed(:s)"), {"s": (seed * 7919 + low) % 1000 / 1000}
            )
            await conn.execute(INSERT, params)
    return (last - first) / (time.perf_counter() - started)


EXACT = sa.text(
    "SELECT percentile_cont(CAST(:fractions AS float8[])) WITHIN GROUP (ORDER BY"
    " response_time_ms) FROM walker_events WHERE hitl IS NOT NULL"
    " AND response_time_ms IS NOT NULL"
)


async def percentile_errors(stores: SqlStores) -> str:
    """The relative error of each estimated percentile over the whole history, PostgreSQL."""
    stats = await stores.monitoring.stats(StatsQuery(scope=ALL_TENANTS))
    async with stores.engine.connect() as conn:
        exact = (await conn.execute(EXACT, {"fractions": list(PERCENTILES)})).scalar_one()
    found = (stats.p50_response_ms, stats.p95_response_ms, stats.p99_response_ms)
    return ", ".join(
        f"p{round(f * 100)} {e:,.1f} ms ({(e - x) / x:+.3%} of {x:,.1f})"
        for f, e, x in zip(PERCENTILES, found, exact, strict=True)
        if e is not None
    )
