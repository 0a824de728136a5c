"""What became of every accepted message, told from the database, the fake Twilio's records and
the admin endpoint, and the figures the soak reports.

Each accepted message ends in exactly one of: delivered once and recorded ``sent``; recorded
``failed`` (nothing delivered); settled by lookup (its outcome was unknown, the provider's list
settled it, and it was delivered once); unsettled (``unknown``, listed by the admin
endpoint); escalated (a reviewer has it). Anything else is a problem: lost (no reply and no
record, or left pending or queued), sent twice, or records that disagree.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import sqlalchemy as sa
from soak_burst import Inbound, Traffic
from soak_procs import ADMIN_HEADERS, UNSETTLED
from sqlalchemy.ext.asyncio import AsyncEngine

from walker_channels.models import OutboundRecord, OutboundState
from walker_channels.services import SendPurpose
from walker_channels.sql import SqlStores
from walker_channels.sql.engine import create_engine
from walker_channels.sql.tables import approvals, events, inbound_queue, outbound

PAGE = 200


class Outcome(StrEnum):
    """What became of one accepted message."""

    DELIVERED = "delivered once"
    FAILED = "failed"
    BY_LOOKUP = "settled by lookup"
    UNSETTLED = "unsettled"
    ESCALATED = "escalated"
    LOST = "lost"
    DUPLICATE = "sent twice"
    MISMATCH = "records disagree"


PROBLEMS = frozenset({Outcome.LOST, Outcome.DUPLICATE, Outcome.MISMATCH})


@dataclass(frozen=True)
class Observed:
    """Everything the check reads, once the run settled."""

    records: Mapping[str, OutboundRecord]
    """The ledger, by key."""
    sent_events: Counter[str]
    """``outbound`` events per ledger key."""
    unknown_events: Counter[str]
    """``outbound_failed`` events with ``outcome_unknown`` per ledger key."""
    failed_events: Counter[str]
    escalated: frozenset[str]
    """The inbound messages a draft was made for."""
    queued: int
    listed: frozenset[str]
    """The keys ``GET /api/v1/admin/outbound/unsettled`` lists."""
    delivered: Mapping[str, Sequence[str]]
    """The fake Twilio's message SIDs per body."""


@dataclass
class Figures:
    """One run's figures, as docs/performance.md shows them."""

    database: str
    processing: str
    messages: int
    kills: int
    accepted: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    redelivered: int = 0
    duplicate_posts: int = 0
    wall_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def record_traffic(self, traffic: Traffic, seconds: float) -> None:
        """Add what the webhooks' senders saw, and the run's wall time."""
        self.posts, self.redelivered = traffic.posts, traffic.redelivered
        self.answers = dict(traffic.answers)
        self.duplicate_posts = traffic.duplicates
        self.wall_seconds = round(seconds, 1)

    def as_row(self) -> dict[str, object]:
        """The figures as one flat mapping (a JSON line of the soak report)."""
        row = asdict(self)
        row["outcomes"] = {outcome.value: self.outcomes[outcome.value] for outcome in Outcome}
        return row


def classify(message: Inbound, seen: Observed) -> tuple[Outcome, str]:
    """The outcome of one accepted message, with the reason when it is a problem."""
    key = SendPurpose.REPLY.key(message.sid)
    record = seen.records.get(key)
    copies = seen.delivered.get(message.reply, ())
    if len(copies) > 1:
        return Outcome.DUPLICATE, f"{key}: {len(copies)} copies at Twilio"
    if record is None:
        if message.sid in seen.escalated:
            return Outcome.ESCALATED, ""
        return Outcome.LOST, f"{key}: no reply reserved, no draft"
    if record.state is OutboundState.SENT:
        return _sent(key, record, copies, seen)
    if record.state is OutboundState.PENDING:
        return Outcome.LOST, f"{key}: still pending"
    if key not in seen.listed:
        return Outcome.MISMATCH, f"{key}: {record.state.value} but not listed as unsettled"
    if record.state is OutboundState.FAILED:
        if copies or not seen.failed_events[key]:
            return Outcome.MISMATCH, f"{key}: failed, {len(copies)} at Twilio, no failed event"
        return Outcome.FAILED, ""
    if not seen.unknown_events[key]:
        return Outcome.MISMATCH, f"{key}: unknown without an outcome_unknown event"
    return Outcome.UNSETTLED, ""


def _sent(
    key: str, record: OutboundRecord, copies: Sequence[str], seen: Observed
) -> tuple[Outcome, str]:
    if not copies:
        return Outcome.LOST, f"{key}: recorded sent, never reached Twilio"
    if record.provider_message_id != copies[0]:
        return Outcome.MISMATCH, f"{key}: recorded SID is not Twilio's"
    if seen.sent_events[key] != 1:
        return Outcome.MISMATCH, f"{key}: sent with {seen.sent_events[key]} outbound events"
    return (Outcome.BY_LOOKUP if seen.unknown_events[key] else Outcome.DELIVERED), ""


def tally(messages: Iterable[Inbound], seen: Observed, figures: Figures) -> None:
    """Classify every accepted message into ``figures``; problems get one line each."""
    for message in messages:
        outcome, why = classify(message, seen)
        figures.accepted += 1
        figures.outcomes[outcome.value] += 1
        if outcome in PROBLEMS:
            figures.problems.append(f"{outcome.value}: {why}")
    if seen.queued:
        figures.problems.append(f"{seen.queued} messages still queued")


async def observe(url: str, web_url: str, delivered: Sequence[Mapping[str, object]]) -> Observed:
    """Read the ledger, the events, the queue, the drafts and the admin endpoint."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(outbound.c.key))).scalars().all()
            log = (await conn.execute(sa.select(events.c.type, events.c.idempotency_key,
                                                events.c.data))).all()  # fmt: skip
            drafts = await conn.execute(sa.select(approvals.c.inbound_message_id))
            escalated = frozenset(str(sid) for sid in drafts.scalars())
            queued = await conn.execute(sa.select(sa.func.count()).select_from(inbound_queue))
            waiting = int(queued.scalar_one())
    finally:
        await engine.dispose()
    async with SqlStores.from_url(url) as stores:
        records = {key: record for key in rows if (record := await stores.ledger.get(key))}
    sent, unknown, failed = _events(log)
    bodies: defaultdict[str, list[str]] = defaultdict(list)
    for item in delivered:
        bodies[str(item["body"])].append(str(item["sid"]))
    return Observed(records, sent, unknown, failed, escalated, waiting,
                    await listed_unsettled(web_url), bodies)  # fmt: skip


def _events(
    log: Iterable[Sequence[Any]],
) -> tuple[Counter[str], Counter[str], Counter[str]]:
    sent: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for kind, idempotency_key, data in log:
        if kind == "outbound" and idempotency_key:
            sent[idempotency_key.removeprefix("outbound:")] += 1
        elif kind == "outbound_failed" and idempotency_key:
            # outbound-failed:{ledger key}:{attempt time}; the ledger key holds one colon.
            ledger_key = ":".join(idempotency_key.split(":")[1:3])
            (unknown if data.get("outcome_unknown") else failed)[ledger_key] += 1
    return sent, unknown, failed


async def listed_unsettled(web_url: str) -> frozenset[str]:
    """Every key the admin endpoint lists, page by page."""
    keys: set[str] = set()
    async with httpx.AsyncClient(base_url=web_url, headers=ADMIN_HEADERS, timeout=20) as client:
        for offset in range(0, 1_000_000, PAGE):
            params = {"limit": PAGE, "offset": offset}
            items = (await client.get(UNSETTLED, params=params)).raise_for_status().json()["items"]
            keys.update(item["key"] for item in items)
            if len(items) < PAGE:
                return frozenset(keys)
    return frozenset(keys)


async def wait_settled(url: str, *, drain: float, settle: float) -> None:
    """Wait until the queue is empty and no send is pending (at most ``drain`` s), then until no
    send is due for a sweep any more (at most ``settle`` s more: the lookups of unknown sends)."""
    engine = create_engine(url)
    busy = sa.select(sa.func.count()).select_from(inbound_queue)
    pending = sa.select(sa.func.count()).where(outbound.c.state == OutboundState.PENDING.value)
    due = sa.select(sa.func.count()).where(outbound.c.next_attempt_at.is_not(None))
    try:
        await _until(engine, [busy, pending], time.monotonic() + drain)
        await _until(engine, [busy, pending, due], time.monotonic() + settle)
    finally:
        await engine.dispose()


async def _until(engine: AsyncEngine, counts: list[sa.Select[Any]], deadline: float) -> None:
    while True:
        async with engine.connect() as conn:
            if not any([(await conn.execute(count)).scalar_one() for count in counts]):
                return
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.5)
