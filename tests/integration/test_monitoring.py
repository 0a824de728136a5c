"""The SQL monitoring reader agrees with the in-memory reference on random data, keeps tenants
apart, never shows a raw participant address, and counts only the agent's answers as
interactions."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from walker_channels.models import (
    ApprovedEvent,
    Channel,
    ConversationEvent,
    Direction,
    EscalationReason,
    InboundEvent,
    LogQuery,
    OutboundEvent,
    Scope,
    StatsQuery,
)
from walker_channels.privacy import pseudonymize
from walker_channels.sql import SqlStores
from walker_channels.testing import InMemoryEventStore, InMemoryMonitoringReader
from walker_channels.testing.contracts import ALL, T0, agent_outcome

KEY = "test-pseudonym-key"
TENANTS = ("t1", "t2", "t3")
PEOPLE = ("+14155550123", "+442071838750", "+4915123456789", "jane.doe@example.com")
PURPOSES = ("reply", "holding", "approved", "fallback", "proactive", "notice")
"""Every ``data["purpose"]`` the outbound sender writes; only ``reply`` is an agent outcome."""
HOUR = timedelta(hours=1)


def _event(spec: dict[str, Any]) -> ConversationEvent:
    raw = spec["person"]
    common = {
        "tenant": spec["tenant"],
        "who": pseudonymize(raw, KEY),
        "at": T0 + timedelta(minutes=spec["minute"]),
        "channel": spec["channel"],
    }
    if spec["kind"] == "inbound":
        return InboundEvent(
            tenant_id=common["tenant"],
            channel=common["channel"],
            participant=common["who"],
            occurred_at=common["at"],
            text=f"hi, I am {raw}, write to me at {PEOPLE[3]}",
        )
    outcome = agent_outcome(
        spec["kind"],
        agent=spec["agent"],
        response_ms=spec["response_ms"],
        confidence=spec["confidence"],
        reason=spec["reason"],
        **common,
    )
    if spec["kind"] == "escalated":
        return outcome
    purpose = spec["purpose"]
    data = {} if purpose is None else {"purpose": purpose}
    with_text: ConversationEvent = outcome.replace(
        text=f"dear {raw}", data=data, hitl=purpose == "approved"
    )
    return with_text


event_specs = st.fixed_dictionaries(
    {
        "tenant": st.sampled_from(TENANTS),
        "person": st.sampled_from(PEOPLE),
        "minute": st.integers(0, 3 * 24 * 60),
        "channel": st.sampled_from([Channel.WHATSAPP, Channel.SMS, Channel.EMAIL]),
        "kind": st.sampled_from(["inbound", "sent", "failed", "escalated"]),
        "agent": st.sampled_from(["alpha", "beta", "gamma"]),
        "response_ms": st.none() | st.floats(0, 20_000, allow_nan=False),
        "confidence": st.none() | st.floats(0, 1, allow_nan=False),
        "reason": st.sampled_from(list(EscalationReason)),
        # None: written by hand without a purpose, which counts as the agent's reply.
        "purpose": st.sampled_from([None, *PURPOSES]),
    }
)
scopes = st.none() | st.frozensets(st.sampled_from(TENANTS), max_size=3)
bounds = st.none() | st.integers(0, 3 * 24 * 60).map(lambda m: T0 + timedelta(minutes=m))


def _close(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_close(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(_close, left, right))
    return bool(left == right)


async def _all_logs(reader: Any, query: LogQuery) -> list[Any]:
    entries: list[Any] = []
    for _ in range(100):
        page = await reader.logs(query)
        entries.extend(page.items)
        if page.next_cursor is None:
            return entries
        query = query.replace(cursor=page.next_cursor)
    raise AssertionError("pagination did not end")


async def _admin_results(reader: Any, scope: Scope, query: dict[str, Any]) -> list[Any]:
    logs = await _all_logs(reader, LogQuery(scope=scope, limit=7, **query))
    stats = await reader.stats(StatsQuery(scope=scope, **query))
    agents = await reader.agent_analytics(StatsQuery(scope=scope, **query))
    return [logs, stats, list(agents)]


def _dump(results: Sequence[Any]) -> Any:
    return [
        [r.model_dump(mode="json") for r in result]
        if isinstance(result, list)
        else result.model_dump(mode="json")
        for result in results
        if isinstance(result, list | BaseModel)
    ]


async def _check(url: str, schema: str | None, events: list[ConversationEvent], **kw: Any) -> None:
    stores = SqlStores.from_url(url, schema=schema)
    try:
        await stores.drop_all()
        await stores.create_all()
        memory = InMemoryEventStore()
        for event in events:
            await stores.events.append(event)
            await memory.append(event)
        scope = Scope(tenant_ids=kw.pop("tenants"))
        query = {k: v for k, v in kw.items() if v is not None}
        sql_results = await _admin_results(stores.monitoring, scope, query)
        reference = await _admin_results(InMemoryMonitoringReader(memory), scope, query)
    finally:
        await stores.dispose()
    assert _close(_dump(sql_results), _dump(reference))
    if scope.tenant_ids is not None:
        assert {entry.tenant_id for entry in sql_results[0]} <= scope.tenant_ids
    text = str(_dump(sql_results))
    assert not [person for person in PEOPLE if person in text]
    assert "example.com" not in text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(event_specs, max_size=30),
    tenants=scopes,
    start=bounds,
    end=bounds,
    channel=st.none() | st.sampled_from([Channel.WHATSAPP, Channel.SMS, Channel.EMAIL]),
    direction=st.none() | st.sampled_from(list(Direction)),
)
def test_scoped_admin_reads_match_the_reference_and_stay_anonymous(
    database: tuple[str, str | None],
    specs: list[dict[str, Any]],
    tenants: frozenset[str] | None,
    start: Any,
    end: Any,
    channel: Channel | None,
    direction: Direction | None,
) -> None:
    events = [_event(spec) for spec in specs]
    url, schema = database
    filters = {"tenants": tenants, "start": start, "end": end, "channel": channel}
    asyncio.run(_check(url, schema, events, **filters))
    if direction is not None:
        asyncio.run(_check_direction(url, schema, events, tenants, direction))


async def _check_direction(
    url: str,
    schema: str | None,
    events: list[ConversationEvent],
    tenants: frozenset[str] | None,
    direction: Direction,
) -> None:
    stores = SqlStores.from_url(url, schema=schema)
    memory = InMemoryEventStore()
    memory.events.extend(events)
    query = LogQuery(scope=Scope(tenant_ids=tenants), direction=direction, limit=500)
    try:
        page = await stores.monitoring.logs(query)
    finally:
        await stores.dispose()
    assert page == await InMemoryMonitoringReader(memory).logs(query)
    assert {entry.direction for entry in page.items} <= {direction}


def _escalation_story() -> list[ConversationEvent]:
    """A message escalated, its holding message, the reviewer's approved send, a proactive send."""
    common: dict[str, Any] = {"tenant_id": "t1", "channel": Channel.SMS, "participant": "p1"}
    escalated = agent_outcome(
        "escalated", agent="support", at=T0, response_ms=800, confidence=0.4, tenant="t1", who="p1"
    )
    return [
        InboundEvent(**common, occurred_at=T0, text="where is my order?"),
        escalated,
        OutboundEvent(**common, occurred_at=T0, data={"purpose": "holding"}),
        ApprovedEvent(**common, occurred_at=T0 + HOUR, approval_id="a1", decided_by="reviewer"),
        OutboundEvent(
            **common,
            occurred_at=T0 + HOUR,
            data={"purpose": "approved"},
            agent_id="support",
            confidence=0.4,
            hitl=True,
        ),
        OutboundEvent(**common, occurred_at=T0 + 2 * HOUR, data={"purpose": "proactive"}),
    ]


async def _story_figures(url: str, schema: str | None) -> dict[str, list[Any]]:
    """``[logs, stats, agents]`` of the story, from the SQL reader and the in-memory one."""
    memory = InMemoryEventStore()
    memory.events.extend(_escalation_story())
    stores = SqlStores.from_url(url, schema=schema)
    try:
        await stores.drop_all()
        await stores.create_all()
        await stores.events.append_many(_escalation_story())
        return {
            "sql": await _admin_results(stores.monitoring, ALL, {}),
            "in-memory": await _admin_results(InMemoryMonitoringReader(memory), ALL, {}),
        }
    finally:
        await stores.dispose()


def test_an_escalation_with_its_holding_message_and_approved_send_is_one_interaction(
    database: tuple[str, str | None],
) -> None:
    for reader, (_, stats, agents) in asyncio.run(_story_figures(*database)).items():
        # The proactive send is in the outbound total but not an interaction.
        assert (stats.outbound_total, stats.escalated_total) == (3, 1), reader
        assert (stats.hitl_rate, stats.success_rate) == (1.0, 1.0), reader
        assert [(a.agent_id, a.interactions) for a in stats.top_agents] == [("support", 1)]
        assert (stats.avg_response_ms, stats.p50_response_ms) == (800, 800), reader
        assert [b.count for b in stats.confidence_buckets if b.count] == [1], reader
        assert [a.model_dump() for a in agents] == [
            {
                "agent_id": "support",
                "interactions": 1,
                "avg_response_ms": 800,
                "avg_confidence": 0.4,
                "hitl_rate": 1.0,
                "success_rate": None,
                "error_rate": 0.0,
                "uptime": 1.0,
                "handoffs": 0,
                "human_replies": 0,
                "avg_sentiment": None,
            }
        ], reader
