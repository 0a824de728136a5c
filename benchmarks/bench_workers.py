"""End-to-end replies per second with 1, 2 and 4 ``walker-channels worker`` processes on
PostgreSQL, next to one background-mode web process, in the same run.

Each configuration has a PostgreSQL schema of its own and runs under uvicorn (one process):

- **background**: the default mode; the web process answers after each response.
- **queue + N workers**: the web process only accepts and ``NOTIFY``s; N ``walker-channels
  worker --app bench_workers:worker_services`` processes (``WALKER_WORKER_CONCURRENCY`` 32,
  ``--idle 60``: only the wake-up makes them prompt) answer.

The agent is the instant echo agent; replies go through ``TwilioTransport`` to the loopback
fake Twilio (:class:`walker_channels.testing.TwilioLikeServer`, its own process), which counts
them. A run posts ``MESSAGES`` distinct signed webhooks (one sender each, 32 at a time, from
this process) and ends when the fake Twilio has every reply: replies per second is
``MESSAGES`` over that time. A warm-up run each, then ``ROUNDS`` rounds interleaved, median.
Every message must be answered exactly once (checked at the end).

Run: ``python benchmarks/bench_workers.py`` (``nox -s bench -- bench_workers``); needs
``WALKER_BENCH_POSTGRES_URL`` or ``WALKER_TEST_POSTGRES_URL``. Nothing is pinned to a core:
on the 2-core reference machine the web process, the workers, PostgreSQL, the fake Twilio and
the load share both cores, which is where the curve bends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
MESSAGES = int(os.environ.get("WALKER_BENCH_MESSAGES", "500"))
WARM_UP = int(os.environ.get("WALKER_BENCH_WARM_UP", "50"))
ROUNDS = 3
CONNECTIONS = 32
WORKERS = tuple(int(n) for n in os.environ.get("WALKER_BENCH_WORKERS", "1,2,4").split(","))
NUMBER = "+14155238886"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
PUBLIC_URL = "https://bench.example.com"
PSEUDONYM_KEY = "bench-pseudonym-key"
DRAIN_SECONDS = 120.0
START_SECONDS = 90.0


# --- the child processes ----------------------------------------------------------------------


def worker_services() -> Any:
    """``worker --app`` factory: the services from the environment, with the instant agent."""
    from walker_channels.agents import echo_agent
    from walker_channels.app import Settings, build_services

    return build_services(Settings(), agent=echo_agent(confidence=0.9))


def serve(port: int) -> None:
    """A web process (its mode and database from the environment) until terminated."""
    import uvicorn
    from fastapi import FastAPI

    from walker_channels.app import Services
    from walker_channels.sql import SqlStores
    from walker_channels_fastapi import create_router

    async def seed(services: Services) -> None:
        assert isinstance(services.stores, SqlStores)
        await services.stores.tenants.add_number("bench", f"whatsapp:{NUMBER}")

    from walker_channels.agents import echo_agent
    from walker_channels.app import Settings, build_services

    services = build_services(Settings(), agent=echo_agent(confidence=0.9), on_start=[seed])
    app = FastAPI()
    app.include_router(create_router(services))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def fake_twilio(port: int) -> None:
    """The fake Twilio; ``port`` tells how many requests it answered so far."""
    from walker_channels.testing.twilio_server import TwilioLikeServer

    async def main() -> None:
        async with TwilioLikeServer(record=False) as twilio:

            async def count(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                writer.write(str(twilio.answered).encode())
                await writer.drain()
                writer.close()

            counter = await asyncio.start_server(count, "127.0.0.1", port)
            print(twilio.base_url, flush=True)
            async with counter:
                await asyncio.Event().wait()

    asyncio.run(main())


# --- the driver -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def child(argv: list[str], env: dict[str, str], *, output: bool = False) -> Iterator[Any]:
    """A child process, always terminated (stdout a pipe if ``output``, else discarded)."""
    stdout = subprocess.PIPE if output else subprocess.DEVNULL
    process = subprocess.Popen(argv, env=env, stdout=stdout, text=True)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def replies(counter: int) -> int:
    with socket.create_connection(("127.0.0.1", counter)) as sock:
        return int(sock.makefile().read() or 0)


def schema_url(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def listeners(url: str, schema: str) -> int:
    """How many workers ``LISTEN`` for the wake-ups of ``schema``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = %s",
            (f'LISTEN "walker_inbox_{schema}"',),
        ).fetchone()
    return int(row[0]) if row else 0


async def post_all(web: str, forms: list[dict[str, str]]) -> None:
    """Post every webhook, ``CONNECTIONS`` at a time; each must get a 200."""
    import httpx

    from walker_channels.testing import TwilioSigner
    from walker_channels.testing.twilio_server import AUTH_TOKEN

    signer = TwilioSigner(AUTH_TOKEN)
    requests = [signer.form_request(PUBLIC_URL + WEBHOOK, form) for form in forms]
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    gate = asyncio.Semaphore(CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def post(headers: dict[str, str], body: bytes) -> None:
            async with gate:
                response = await client.post(web, content=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"a webhook got {response.status_code}: {response.text}")

        await asyncio.gather(*(post(h, b) for h, b in requests))


def run(web: str, config: Config, counter: int, count: int) -> float:
    """Post ``count`` webhooks and wait for every reply; replies per second."""
    forms = config.forms(count)
    before = replies(counter)
    began = time.perf_counter()
    asyncio.run(post_all(web, forms))
    while replies(counter) - before < count:
        if time.perf_counter() - began > DRAIN_SECONDS:
            raise RuntimeError(f"{config.name}: the replies did not all arrive in time")
        time.sleep(0.005)
    return count / (time.perf_counter() - began)


def environment(url: str, twilio_url: str, processing: str) -> dict[str, str]:
    from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN

    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "WALKER_DATABASE_URL": url,
        "WALKER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "WALKER_PUBLIC_URL": PUBLIC_URL,
        "WALKER_WEBHOOK_PROCESSING": processing,
        "WALKER_SWEEP_INTERVAL": "0",
        "WALKER_WORKER_CONCURRENCY": "32",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{NUMBER}",
        "TWILIO_API_BASE_URL": twilio_url,
    }


def wait_until(what: str, check: Any, processes: list[Any]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not check():
        if any(process.poll() is not None for process in processes):
            raise RuntimeError(f"a process exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own loopback server
    except OSError:
        return False
    return True


class Config:
    """One configuration: its schema (kept across rounds) and the next MessageSid."""

    def __init__(self, name: str, schema: str, workers: int) -> None:
        self.name, self.schema, self.workers = name, schema, workers
        self.next_sid = 0
        self.sent = 0

    def forms(self, count: int) -> list[dict[str, str]]:
        first, self.next_sid = self.next_sid, self.next_sid + count
        self.sent += count
        return [
            {
                "MessageSid": f"SM{self.workers:08x}{n:024x}",
                "AccountSid": "AC" + "0" * 32,
                "Body": f"hello {n}",
                "From": f"whatsapp:+1415{n % 10_000_000:07d}",
                "To": f"whatsapp:{NUMBER}",
                "NumMedia": "0",
            }
            for n in range(first, first + count)
        ]


@contextlib.contextmanager
def started(config: Config, pg: str, twilio_url: str) -> Iterator[str]:
    """The configuration's processes, once they answer and listen; yields the webhook URL.

    One configuration runs at a time: all of them at once would need more PostgreSQL
    connections than the shared server allows (each process pools up to 15).
    """
    url = schema_url(pg, config.schema)
    port = free_port()
    env = environment(url, twilio_url, "queue" if config.workers else "background")
    with contextlib.ExitStack() as stack:
        serve = [sys.executable, __file__, "--serve", "--port", str(port)]
        processes = [stack.enter_context(child(serve, env))]
        home = f"http://127.0.0.1:{port}/docs"
        wait_until(f"{config.name} to answer", lambda: answers(home), processes)
        # The web process migrated the schema: the workers need not.
        env = {**env, "WALKER_MIGRATE_ON_START": "false"}
        command = Path(sys.executable).with_name("walker-channels")
        worker = [str(command), "worker", "--idle", "60", "--app", "bench_workers:worker_services"]
        processes += [stack.enter_context(child(worker, env)) for _ in range(config.workers)]
        wait_until(
            f"the workers of {config.name} to listen",
            lambda: listeners(pg, config.schema) >= config.workers,
            processes,
        )
        yield f"http://127.0.0.1:{port}{WEBHOOK}"


def main() -> None:
    pg = os.environ.get("WALKER_BENCH_POSTGRES_URL") or os.environ.get("WALKER_TEST_POSTGRES_URL")
    if not pg:
        sys.exit("this benchmark needs WALKER_BENCH_POSTGRES_URL or WALKER_TEST_POSTGRES_URL")
    import psycopg

    # SIGTERM (a timeout, Ctrl-C elsewhere) still stops the children and drops the schemas.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    prefix = "bench_workers_" + secrets.token_hex(4)
    configs = [Config("background, 1 web process", f"{prefix}_bg", 0)]
    for n in WORKERS:
        configs.append(Config(f"queue, {n} worker{'s' if n > 1 else ''}", f"{prefix}_{n}w", n))
    counter = free_port()
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        fake = [sys.executable, __file__, "--twilio-server", "--port", str(counter)]
        twilio = stack.enter_context(child(fake, dict(os.environ), output=True))
        twilio_url = twilio.stdout.readline().strip()
        with psycopg.connect(pg, autocommit=True) as conn:
            for config in configs:
                conn.execute(f"CREATE SCHEMA {config.schema}")

        def drop_schemas() -> None:
            with psycopg.connect(pg, autocommit=True) as conn:
                for config in configs:
                    conn.execute(f"DROP SCHEMA IF EXISTS {config.schema} CASCADE")

        stack.callback(drop_schemas)
        rates: dict[str, list[float]] = {config.name: [] for config in configs}
        for _ in range(ROUNDS):
            for config in configs:
                with started(config, pg, twilio_url) as web:
                    run(web, config, counter, WARM_UP)  # fresh processes: warm them up
                    rates[config.name].append(run(web, config, counter, MESSAGES))
                    print(f"{config.name}: {rates[config.name][-1]:.0f} replies/s", flush=True)
                    time.sleep(0.5)  # a duplicate reply would arrive now
        total, answered = sum(c.sent for c in configs), replies(counter)
        report(rates, os.cpu_count() or 1)
        print(
            f"{answered} replies to {total} messages (exactly once: {answered == total}); "
            f"{time.monotonic() - began:.0f} s in all"
        )
        if answered != total:
            sys.exit("some messages were not answered exactly once")


def report(rates: dict[str, list[float]], cores: int) -> None:
    medians = {name: statistics.median(values) for name, values in rates.items()}
    base = next(iter(medians.values()))
    one = medians.get("queue, 1 worker", base)
    print(f"{MESSAGES} messages per run, {CONNECTIONS} at a time, median of {ROUNDS} "
          f"interleaved; PostgreSQL; {cores} cores shared by everything")  # fmt: skip
    print(f"{'configuration':<28} {'replies/s':>9} {'min':>7} {'max':>7} "
          f"{'vs background':>13} {'vs 1 worker':>11}")  # fmt: skip
    for name, values in rates.items():
        m = medians[name]
        print(f"{name:<28} {m:>9.0f} {min(values):>7.0f} {max(values):>7.0f} "
              f"{m / base:>13.2f} {m / one:>11.2f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--twilio-server", action="store_true")
    parser.add_argument("--port", type=int)
    options = parser.parse_args()
    if options.twilio_server:
        fake_twilio(options.port)
    elif options.serve:
        serve(options.port)
    else:
        main()
