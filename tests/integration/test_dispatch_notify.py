"""PostgreSQL wake-ups: a queue-mode web process ``NOTIFY``s, a sleeping worker answers at once.

The workers here sweep every 60 s (or an hour): a reply within the generous deadline comes
from the wake-up, not from the interval. Each round after the first starts while the worker
sleeps. The listener survives its connection being killed: it reconnects and hears again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_worker_command import PSEUDONYM_KEY, message

from db_urls import url_with_schema
from sweeping import WatchedSweeper
from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.sql import SqlStores
from walker_channels.sql.notify import PostgresWakeup
from walker_channels.testing import RecordingTransport

pytestmark = pytest.mark.postgres

HERE = Path(__file__).parent
NUMBER = "+14155238886"
DEADLINE = 20.0
"""Generous, and still a third of the workers' 60 s interval."""
STARTUP = 90.0
"""A process starting on a busy machine: imports, migrations check, first connections."""
SETTLE = 1.0
"""Between a reply and the next round: the worker's follow-up pass is over, it sleeps."""
ROUNDS = 3


def sync_url(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


def listeners(url: str, channel: str) -> list[int]:
    """The backends ``LISTEN``ing on ``channel`` (their last statement says so)."""
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE query = :listen"),
                {"listen": f'LISTEN "{channel}"'},
            )
            return [row.pid for row in rows]
    finally:
        engine.dispose()


def wait_for(what: str, check: Callable[[], object], deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


async def web_services(url: str) -> Services:
    """A queue-mode web process's services on ``url``, with the test tenant's number."""
    settings = Settings(
        walker_database_url=url,
        walker_pseudonym_key=PSEUDONYM_KEY,
        walker_webhook_processing="queue",
        walker_sweep_interval=0,
    )
    services = build_services(settings, agent=echo_agent(), whatsapp_transport=RecordingTransport())
    await services.start()  # migrates the schema
    assert isinstance(services.stores, SqlStores)
    await services.stores.tenants.add_number("acme", f"whatsapp:{NUMBER}")
    return services


async def accept_and_dispatch(web: Services, n: int) -> None:
    """What the webhook does: accept, then hand the message to the services' dispatcher."""
    result = await web.conversations.accept(message(n))
    assert result.conversation is not None
    assert (
        await web.dispatcher.dispatch(result.message_id, conversation=result.conversation) is None
    )


@pytest.fixture
def schema_url(postgres_url: str, fresh_pg_schema: str) -> str:
    return url_with_schema(postgres_url, fresh_pg_schema)


@pytest.fixture
def worker_process(
    schema_url: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    sent = tmp_path / "sent.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "WALKER_DATABASE_URL": schema_url,
        "WALKER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "WORKER_TEST_SENT": str(sent),
    }
    command = "from walker_channels.cli import main; raise SystemExit(main())"
    argv = [
        sys.executable,
        "-c",
        command,
        "worker",
        "--idle",
        "60",
        "--app",
        "worker_host_app:factory",
    ]
    worker = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE)  # noqa: S603
    try:
        yield worker, sent
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                worker.kill()
        worker.wait()


def test_a_worker_process_answers_a_message_another_process_accepted_when_notified(
    schema_url: str, fresh_pg_schema: str, worker_process: tuple[subprocess.Popen[bytes], Path]
) -> None:
    worker, sent = worker_process
    loop = asyncio.new_event_loop()
    web = loop.run_until_complete(web_services(schema_url))
    try:
        channel = web.stores.wakeup().channel  # type: ignore[attr-defined]
        assert channel == f"walker_inbox_{fresh_pg_schema}"
        wait_for(
            "the worker to listen",
            lambda: listeners(schema_url, channel) or worker.poll() is not None,
            STARTUP,
        )
        assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
        time.sleep(SETTLE)  # its first passes are over: it sleeps for 60 s
        for n in range(ROUNDS):
            loop.run_until_complete(accept_and_dispatch(web, n))
            wait_for(f"reply {n}", partial(replied, sent, n + 1))
            time.sleep(SETTLE)
    finally:
        loop.run_until_complete(web.close())
        loop.close()
    assert sorted(lines(sent)) == [f"Echo: question {n}" for n in range(ROUNDS)]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def replied(path: Path, count: int) -> bool:
    return len(lines(path)) >= count


@asynccontextmanager
async def sleeping_worker(
    url: str, schema: str
) -> AsyncIterator[tuple[WatchedSweeper, RecordingTransport, PostgresWakeup]]:
    """An in-process worker on its own stores, sweeping every hour unless woken."""
    transport = RecordingTransport()
    stores = SqlStores.from_url(url, schema=schema)
    settings = Settings(walker_pseudonym_key=PSEUDONYM_KEY, walker_sweep_interval=0)
    services = build_services(
        settings, stores=stores, agent=echo_agent(), whatsapp_transport=transport
    )
    wakeup = stores.wakeup()
    assert isinstance(wakeup, PostgresWakeup)
    sweeper = WatchedSweeper(
        conversations=services.conversations, review=services.review, interval=3600, wakeup=wakeup
    )
    await sweeper.start()
    try:
        yield sweeper, transport, wakeup
    finally:
        await sweeper.stop()
        await services.close()
        await stores.dispose()


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Return once ``check()`` holds (the caller bounds the wait)."""
    while True:
        if await check():
            return
        await asyncio.sleep(0.05)


async def answered(sweeper: WatchedSweeper, transport: RecordingTransport, count: int) -> None:
    async def sent() -> bool:
        return len(transport.sent) >= count

    async with asyncio.timeout(DEADLINE):
        await until(sent)
        await sweeper.rest()


@pytest.mark.anyio
@pytest.mark.parametrize("driver", ["psycopg", "asyncpg"])
async def test_the_listener_reconnects_when_its_connection_is_killed(
    postgres_url: str, fresh_pg_schema: str, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = sa.make_url(postgres_url).set(drivername=f"postgresql+{driver}")
    web = await web_services(url_with_schema(postgres_url, fresh_pg_schema))
    caplog.set_level(logging.WARNING, logger="walker_channels.sql.notify")
    try:
        async with sleeping_worker(url.render_as_string(False), fresh_pg_schema) as (
            sweeper,
            sent,
            wakeup,
        ):

            async def listening() -> bool:
                return bool(await asyncio.to_thread(listeners, postgres_url, wakeup.channel))

            async with asyncio.timeout(DEADLINE):
                await until(listening)
                await sweeper.rest()
            await accept_and_dispatch(web, 1)
            await answered(sweeper, sent, 1)

            [killed] = await asyncio.to_thread(listeners, postgres_url, wakeup.channel)
            await asyncio.to_thread(terminate, postgres_url, killed)

            async def reconnected() -> bool:
                pids = await asyncio.to_thread(listeners, postgres_url, wakeup.channel)
                return bool(pids) and killed not in pids

            async with asyncio.timeout(DEADLINE):
                await until(reconnected)
                await sweeper.rest()
            await accept_and_dispatch(web, 2)
            await answered(sweeper, sent, 2)
    finally:
        await web.close()
    assert [m.text for m in sent.sent] == ["Echo: question 1", "Echo: question 2"]
    assert "reconnecting" in caplog.text
    assert PSEUDONYM_KEY not in caplog.text


def terminate(url: str, pid: int) -> None:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()
