"""``walker-channels worker``: the web process only accepts, the worker answers.

The "web process" here is a set of services that accepts messages as a queue-mode webhook
does; the worker is built by ``run_worker`` from the environment, on the same SQLite file, as
a separate process would be.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from walker_channels.agents import echo_agent
from walker_channels.app import Settings, build_services
from walker_channels.cli import build_parser
from walker_channels.cli.worker import run_worker
from walker_channels.models import (
    Address,
    Channel,
    ConversationMode,
    ConversationQuery,
    InboundMessage,
    OutboundMessage,
    Scope,
    SendResult,
    StatsQuery,
)
from walker_channels.services import AcceptOutcome
from walker_channels.sql import SqlStores
from walker_channels.sql.rollups import SETTLE
from walker_channels.sql.tables import rollup_days
from walker_channels.testing import RecordingTransport
from walker_channels.testing.contracts import inbound

pytestmark = pytest.mark.anyio

NUMBER, PERSON = "+14155238886", "+14155552671"
PSEUDONYM_KEY = "worker-test-key"
REPLY_SECONDS = 10.0
STARTUP_SECONDS = 30.0


class CountingTransport(RecordingTransport):
    """Records, and sets ``done`` once ``expected`` messages went out."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.done = asyncio.Event()
        self._expected = expected

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await super().send(message)
        if len(self.sent) >= self._expected:
            self.done.set()
        return result


def message(n: int) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        sender=Address(channel=Channel.WHATSAPP, value=PERSON),
        recipient=Address(channel=Channel.WHATSAPP, value=NUMBER),
        text=f"question {n}",
        provider_message_id=f"SM{n:032x}",
        received_at=datetime.now(UTC),
    )


async def accept_as_the_web_process(database: Path, count: int) -> None:
    settings = Settings(
        walker_database_url=f"sqlite:///{database}",
        walker_pseudonym_key=PSEUDONYM_KEY,
        walker_webhook_processing="queue",
    )
    web = build_services(settings, agent=echo_agent(), whatsapp_transport=RecordingTransport())
    await web.start()
    try:
        assert isinstance(web.stores, SqlStores)
        await web.stores.tenants.add_number("acme", f"whatsapp:{NUMBER}")
        for n in range(count):
            assert (await web.conversations.accept(message(n))).outcome is AcceptOutcome.ACCEPTED
    finally:
        await web.close()


def start_worker(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    transport: RecordingTransport,
    batch: int | None = None,
) -> tuple[asyncio.Task[None], asyncio.Event]:
    """``run_worker`` on ``url`` in a task, as the command would run it; set the event to stop."""
    monkeypatch.setenv("WALKER_DATABASE_URL", url)
    monkeypatch.setenv("WALKER_PSEUDONYM_KEY", PSEUDONYM_KEY)
    stop = asyncio.Event()
    worker = run_worker(
        batch=batch, idle=0.05, stop=stop, agent=echo_agent(), whatsapp_transport=transport
    )
    return asyncio.create_task(worker), stop


async def test_the_worker_answers_every_queued_message_and_stops_when_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "walker.db"
    await accept_as_the_web_process(database, count=5)
    sent = CountingTransport(expected=5)
    worker, stop = start_worker(monkeypatch, f"sqlite:///{database}", sent, batch=2)
    await asyncio.wait_for(sent.done.wait(), REPLY_SECONDS)
    stop.set()
    await asyncio.wait_for(worker, REPLY_SECONDS)

    assert sorted(m.text or "" for m in sent.sent) == [f"Echo: question {n}" for n in range(5)]
    async with SqlStores.from_url(f"sqlite:///{database}") as stores:
        assert (
            await stores.inbox.claim(now=datetime.now(UTC), lease=timedelta(minutes=1), limit=10)
            == []
        )
        stats = await stores.monitoring.stats(StatsQuery(scope=Scope(tenant_ids=None)))
    assert (stats.inbound_total, stats.outbound_total) == (5, 5)


async def test_the_worker_rolls_up_the_closed_days_of_the_admin_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'walker.db'}"
    days_ago = datetime.now(UTC) - timedelta(days=3)
    async with SqlStores.from_url(url) as stores:
        await stores.upgrade()
        await stores.events.append_many(
            [inbound(None, who=f"p{n}", at=days_ago + timedelta(hours=n)) for n in range(30)]
        )
        expected = await stores.monitoring.stats(StatsQuery(scope=Scope(tenant_ids=None)))
    worker, stop = start_worker(monkeypatch, url, RecordingTransport())
    closed = ((datetime.now(UTC) - SETTLE).date() - days_ago.date()).days  # up to yesterday
    async with SqlStores.from_url(url) as stores:
        deadline = time.monotonic() + REPLY_SECONDS
        while await _rolled(stores) < closed:
            assert time.monotonic() < deadline, "the worker did not roll the closed days"
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(worker, REPLY_SECONDS)
        assert await stores.monitoring.stats(StatsQuery(scope=Scope(tenant_ids=None))) == expected


async def test_the_worker_hands_idle_human_conversations_back_to_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "walker.db"
    await accept_as_the_web_process(database, count=1)
    monkeypatch.setenv("WALKER_HANDOFF_IDLE_TIMEOUT", "0.2")
    everyone = ConversationQuery(scope=Scope(tenant_ids=None))
    worker, stop = start_worker(monkeypatch, f"sqlite:///{database}", RecordingTransport())
    # No sweep here: only the worker can hand the conversation back.
    settings = Settings(walker_sweep_interval=0)
    services = build_services(settings, agent=echo_agent(), whatsapp_transport=RecordingTransport())
    await services.start()
    try:
        deadline = time.monotonic() + REPLY_SECONDS
        while not (found := await services.handoff.find(everyone)):
            assert time.monotonic() < deadline, "the worker did not answer"
            await asyncio.sleep(0.05)
        await services.handoff.takeover(found[0].id, scope=everyone.scope, by="alice")
        while (await services.handoff.find(everyone))[0].mode is ConversationMode.HUMAN:
            assert time.monotonic() < deadline, "the conversation stayed with the human"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, REPLY_SECONDS)
        await services.close()


async def _rolled(stores: SqlStores) -> int:
    async with stores.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(rollup_days))).scalar())


@pytest.mark.parametrize("flag", ["--batch", "--idle"])
def test_the_worker_refuses_a_batch_or_idle_time_that_is_not_positive(flag: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", flag, "0"])


def test_the_worker_command_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    database = tmp_path / "walker.db"
    env = {
        **os.environ,
        "WALKER_DATABASE_URL": f"sqlite:///{database}",
        "WALKER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "LANGFLOW_BASE_URL": "http://127.0.0.1:9",
        "LANGFLOW_FLOW_ID": "support",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "worker-test-token",
        "TWILIO_WHATSAPP_FROM": NUMBER,
    }
    command = "from walker_channels.cli import main; raise SystemExit(main(['worker']))"
    worker = subprocess.Popen([sys.executable, "-c", command], env=env, stderr=subprocess.PIPE)  # noqa: S603
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not database.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert database.exists(), "the worker did not start"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=STARTUP_SECONDS) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
