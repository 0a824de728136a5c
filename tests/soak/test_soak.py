"""Fault injection: a burst of signed webhooks through real web and worker processes, a Twilio
that fails a fifth of the sends and drops a tenth, SIGKILLs during the burst, and Twilio's
redelivery. Every accepted message ends delivered once, failed, settled by lookup, unsettled
(listed for an operator) or with a reviewer: none lost, none sent twice.

The default run is short (40 messages, two kills per combination). ``nox -s soak`` runs the
long one: ``WALKER_SOAK_MESSAGES`` messages, ``WALKER_SOAK_KILLS`` kills, and waits for the
lookups of unknown sends; ``WALKER_SOAK_REPORT`` names a file the figures are appended to.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from soak_burst import Traffic, burst, inbound_messages, kill_order, person, redeliver
from soak_check import Figures, observe, tally, wait_settled
from soak_procs import LEASE_SECONDS, Child, FakeTwilio, Web, environment, worker

from db_urls import url_with_schema
from walker_channels.sql import SqlStores

pytestmark = pytest.mark.anyio

LOOKUP_WAIT = 150.0
"""Long runs wait this long for unknown sends to be looked up (60 s after their reservation)."""


@dataclass(frozen=True)
class Plan:
    """How big a run is."""

    messages: int = 40
    kills: int = 2
    rate: float = 10.0
    """Webhooks per second."""
    people: int = 10
    webs: int = 1
    workers: int = 1
    """Worker processes in queue mode (background mode has none: the web processes work)."""
    duplicates: float = 0.1
    """The share of answered webhooks Twilio delivers twice."""
    settle: float = 0.0
    """Seconds to wait for the lookups of unknown sends (0: they stay listed as unsettled)."""
    seed: int = 13

    @classmethod
    def from_environment(cls) -> Plan:
        """The short plan, or the long one when ``WALKER_SOAK_MESSAGES`` is set."""
        messages = os.environ.get("WALKER_SOAK_MESSAGES")
        if not messages:
            return cls()
        count = int(messages)
        kills = int(os.environ.get("WALKER_SOAK_KILLS", "6"))
        return cls(count, kills, rate=25.0, people=20, webs=2, workers=2, settle=LOOKUP_WAIT)


PLAN = Plan.from_environment()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new SQLite file, or a new PostgreSQL schema (chosen in the URL, as a deployment can)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'soak.db'}"
    schema = request.getfixturevalue("fresh_pg_schema")
    base = request.getfixturevalue("postgres_url")
    return url_with_schema(base, schema)


@dataclass
class Processes:
    """The run's processes: the fake Twilio, the web processes and the workers (queue mode)."""

    twilio: FakeTwilio
    webs: list[Web]
    workers: list[Child]

    @property
    def all(self) -> list[Child]:
        return [self.twilio, *self.webs, *self.workers]


@asynccontextmanager
async def processes(database_url: str, processing: str, logs: Path) -> AsyncIterator[Processes]:
    """Start every process of a run on a migrated database; stop them all at the end."""
    async with SqlStores.from_url(database_url) as stores:
        await stores.upgrade()
    twilio = FakeTwilio(logs, PLAN.seed)
    started = Processes(twilio, [], [])
    try:
        twilio.begin()
        env = environment(database_url, processing, twilio.url)
        started.webs = [Web(f"web{n}", env, logs) for n in range(PLAN.webs)]
        count = PLAN.workers if processing == "queue" else 0
        started.workers = [worker(f"worker{n}", env, logs) for n in range(count)]
        for child in started.all[1:]:
            child.start()
        for web in started.webs:
            await web.ready()
        yield started
    finally:
        for child in started.all:
            child.stop()


@pytest.mark.parametrize("processing", ["background", "queue"])
async def test_nothing_is_lost_or_sent_twice_under_faults_and_kills(
    database_url: str, processing: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    messages = inbound_messages(PLAN.messages, PLAN.people, PLAN.seed)
    traffic = Traffic()
    async with processes(database_url, processing, tmp_path) as run:
        kills = kill_order(run.workers, run.webs, PLAN.kills)
        await burst(messages, run.webs, rate=PLAN.rate, kills=kills, traffic=traffic)
        rng = random.Random(PLAN.seed)
        await redeliver(messages, run.webs, duplicates=PLAN.duplicates, traffic=traffic, rng=rng)
        await wait_settled(database_url, drain=60 + 3 * LEASE_SECONDS, settle=PLAN.settle)
        accepted = [m for m in messages if traffic.answered.get(m.sid) == 200]
        seen = await observe(database_url, run.webs[0].url, await run.twilio.messages())
    figures = Figures(database_url.split(":")[0], processing, PLAN.messages, len(kills))
    tally(accepted, seen, figures)
    figures.record_traffic(traffic, time.monotonic() - began)
    report(figures)

    assert len(accepted) == len(messages), "Twilio's redelivery got every message a 200"
    assert figures.problems == []
    assert sum(child.kills for child in run.all) == PLAN.kills
    logs = [child.log_text() for child in run.all]
    assert not [p for p in map(person, range(PLAN.people)) if any(p in log for log in logs)]


def report(figures: Figures) -> None:
    """Print the figures, and append them to ``WALKER_SOAK_REPORT`` when it is set."""
    row = figures.as_row()
    print(json.dumps(row))
    path = os.environ.get("WALKER_SOAK_REPORT")
    if path:
        with Path(path).open("a") as out:
            out.write(json.dumps(row) + "\n")
