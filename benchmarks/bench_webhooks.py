"""Webhook throughput and p99 under ``wrk``: walker-channels next to a bare and a minimal
durable endpoint, in the same run, on SQLite and PostgreSQL.

Every server runs under uvicorn in its own process pinned to core 0 (``taskset -c 0``); ``wrk``
(one thread, 32 connections) and the loopback fake Twilio run on core 1. ``wrk`` replays
distinct signed inbound WhatsApp webhooks from a file written before the clock starts
(``webhooks.lua``; signatures by :class:`walker_channels.testing.TwilioSigner`, 1,000 senders,
each line its own MessageSid). The servers:

- **bare**: parse the form and check ``X-Twilio-Signature``
  (:func:`walker_channels.signatures.verify_twilio_signature`), answer empty TwiML after one
  empty thread hop (see :func:`bare_app`); no storage.
- **durable**: the same, then one transaction inserting a queue row and an inbound event with
  ``ON CONFLICT DO NOTHING``: the least a correct durable accept does. SQLite: the stdlib
  driver on one writer thread (WAL, ``synchronous=NORMAL`` as walker-channels uses);
  PostgreSQL: asyncpg (prepared statements) on a pool of 8.
- **walker queue**: ``create_router`` with ``WALKER_WEBHOOK_PROCESSING=queue`` and no worker:
  the accept path alone.
- **walker background**: the default mode, end to end: the echo agent answers, and the reply
  goes through ``TwilioTransport`` to the fake Twilio, where replies are counted.

Each is measured for ``DURATION`` seconds, three rounds interleaved, median by rate. For
background mode the end-to-end rate is webhooks answered over the time until the fake Twilio
has received every reply. Then each walker server once more at half its maximum rate (the
Lua ``delay``: each connection waits an exponential time before each request, so the 32
connections are independent senders, not 32 requests in step; for twice as long: few
requests at low rates), for the p99 the issue's aim names; and once more with the same pause
every time ("in step"), which sends the 32 requests as bursts. Ratios are to the bare
endpoint.

Run: ``python benchmarks/bench_webhooks.py`` (``nox -s bench -- bench_webhooks``), with
``WALKER_BENCH_BEFORE=<checkout>`` also an earlier tree's walker servers; needs
``wrk`` (``apt-get install wrk``) and, for the PostgreSQL rows, ``WALKER_BENCH_POSTGRES_URL``
or ``WALKER_TEST_POSTGRES_URL`` (skipped without).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote

from fastapi import FastAPI, Request, Response

from walker_channels.exceptions import InvalidSignature
from walker_channels.signatures import verify_twilio_signature
from walker_channels.testing import TwilioSigner
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN

DURATION = int(os.environ.get("WALKER_BENCH_SECONDS", "5"))
WARM_UP = 2
ROUNDS = 3
CONNECTIONS = 32
LINES = 60_000
NUMBER = "+14155238886"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
PUBLIC_URL = "https://bench.example.com"
"""Every server checks signatures against this URL, so one file of signed webhooks serves all."""
HERE = Path(__file__).resolve().parent
LUA = HERE / "webhooks.lua"
DRAIN_SECONDS = 120.0
BEFORE = os.environ.get("WALKER_BENCH_BEFORE")
"""A checkout of an earlier tree (``git worktree add``): its walker servers run too, in the same
run, marked ``[before]``, for a before/after comparison with one baseline."""


class Figures(NamedTuple):
    """One wrk run: answered per second, latency in ms, the server's CPU µs per request,
    end-to-end replies per second, and the share of its core wrk itself used."""

    rps: float
    p50: float
    p99: float
    answered: int
    repeats: int
    errors: int = 0
    cpu_us: float = 0.0
    e2e: float | None = None
    load_cpu: float = 0.0


# --- the servers (child processes) ------------------------------------------------------------


TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def checked_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form (parsed as walker-channels parses it), if its signature is right."""
    pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    signature = request.headers.get("X-Twilio-Signature")
    try:
        verify_twilio_signature(AUTH_TOKEN, PUBLIC_URL + WEBHOOK, params, signature)
    except InvalidSignature:
        return None
    return params


def bare_app() -> FastAPI:
    """Parse the form and check the signature; nothing stored.

    Then one empty thread hop before answering, as every storing endpoint awaits something:
    answered without any await, this endpoint ran 4x slower under wrk here (uvicorn's h11
    protocol; 297 against 1,211 req/s in one run), which would flatter every ratio.
    """
    from concurrent.futures import ThreadPoolExecutor

    hop = ThreadPoolExecutor(1)
    app = FastAPI()

    @app.post(WEBHOOK)
    async def webhook(request: Request) -> Response:
        if await checked_form(request) is None:
            return Response(status_code=403)
        await asyncio.get_running_loop().run_in_executor(hop, int)
        return Response(TWIML, media_type="text/xml")

    return app


_QUEUE_SQL = (
    "INSERT INTO q (id, conversation, message, enqueued_at) VALUES ({}, {}, {}, {}) "
    "ON CONFLICT DO NOTHING"
)
_EVENT_SQL = (
    "INSERT INTO e (id, idempotency_key, tenant_id, participant, occurred_at, data) "
    "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING"
)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS q (id TEXT PRIMARY KEY, conversation TEXT NOT NULL, "
    "message TEXT NOT NULL, enqueued_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS e (id TEXT PRIMARY KEY, idempotency_key TEXT UNIQUE, "
    "tenant_id TEXT, participant TEXT NOT NULL, occurred_at DOUBLE PRECISION NOT NULL, "
    "data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS e_person ON e (tenant_id, participant, occurred_at)",
)


def durable_app(database: str) -> FastAPI:
    """``bare`` plus one transaction: a queue row and an event, duplicates skipped."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    app = FastAPI()
    state: dict[str, Any] = {}

    def rows(params: dict[str, str]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        sid, now = params["MessageSid"], time.time()
        person = hashlib.sha256(params["From"].encode()).hexdigest()[:32]
        message = json.dumps(params)
        return (sid, person, message, now), (sid, "inbound:" + sid, "t1", person, now, message)

    if database.startswith("postgresql"):
        import asyncpg

        marks = [f"${n}" for n in range(1, 7)]
        queue_sql, event_sql = (s.format(*marks) for s in (_QUEUE_SQL, _EVENT_SQL))

        async def store(params: dict[str, str]) -> None:
            queued, event = rows(params)
            async with state["pool"].acquire() as conn, conn.transaction():
                await conn.execute(queue_sql, *queued)
                await conn.execute(event_sql, *event)

        @contextlib.asynccontextmanager
        async def connect(_: Any) -> Any:
            url, _, schema = database.partition("#")
            state["pool"] = await asyncpg.create_pool(
                url, min_size=8, max_size=8, server_settings={"search_path": schema}
            )
            async with state["pool"].acquire() as conn:
                for statement in _SCHEMA:
                    await conn.execute(statement)
            yield
            await state["pool"].close()

        app.router.lifespan_context = connect

    else:
        import sqlite3

        queue_sql, event_sql = (s.format(*"?" * 6) for s in (_QUEUE_SQL, _EVENT_SQL))
        writer = ThreadPoolExecutor(1)
        local: dict[str, sqlite3.Connection] = {}

        def write(queued: tuple[Any, ...], event: tuple[Any, ...]) -> None:
            if "conn" not in local:
                conn = sqlite3.connect(database, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                for statement in _SCHEMA:
                    conn.execute(statement)
                local["conn"] = conn
            conn = local["conn"]
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(queue_sql, queued)
            conn.execute(event_sql, event)
            conn.execute("COMMIT")

        async def store(params: dict[str, str]) -> None:
            await asyncio.get_running_loop().run_in_executor(writer, write, *rows(params))

    @app.post(WEBHOOK)
    async def webhook(request: Request) -> Response:
        params = await checked_form(request)
        if params is None:
            return Response(status_code=403)
        await store(params)
        return Response(TWIML, media_type="text/xml")

    return app


def walker_app(database: str, twilio_url: str, processing: str) -> FastAPI:
    """The library's router on SQL stores, the echo agent and the fake Twilio."""
    from walker_channels.agents import echo_agent
    from walker_channels.app import Services, Settings, build_services
    from walker_channels.sql import SqlStores
    from walker_channels_fastapi import create_router

    settings = Settings(
        walker_webhook_processing=processing,
        walker_database_url=database,
        walker_pseudonym_key="bench-pseudonym-key",
        walker_public_url=PUBLIC_URL,
        # Background: the sweeper finishes what a task could not claim, as in a deployment.
        # Queue mode measures the accept alone: no sweeper (it would answer the queue).
        walker_sweep_interval=1 if processing == "background" else 0,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_from=f"whatsapp:{NUMBER}",
        twilio_api_base_url=twilio_url,
    )

    async def seed(services: Services) -> None:
        assert isinstance(services.stores, SqlStores)
        await services.stores.tenants.add_number("bench", f"whatsapp:{NUMBER}")

    services = build_services(settings, agent=echo_agent(confidence=0.9), on_start=[seed])
    app = FastAPI()
    app.include_router(create_router(services))
    return app


def serve(kind: str, port: int, database: str, twilio_url: str) -> None:
    """The child process: one server until terminated."""
    import uvicorn

    if kind == "bare":
        app = bare_app()
    elif kind == "durable":
        app = durable_app(database)
    else:
        app = walker_app(database, twilio_url, kind.removeprefix("walker-"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def fake_twilio(port: int) -> None:
    """The child process: the fake Twilio, and on ``port`` the count of replies it received."""
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
    """A free port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def child(
    core: int, *args: str, output: bool = False, tree: str | None = None
) -> Iterator[subprocess.Popen[str]]:
    """This script as a child process pinned to ``core``, always terminated (``output``: its
    stdout is a pipe to read, else it is discarded so that it cannot fill up and block)."""
    command = ["taskset", "-c", str(core), sys.executable, __file__, *args]
    stdout = subprocess.PIPE if output else subprocess.DEVNULL
    env = None
    if tree is not None:  # that tree's packages first (before the editable install's)
        paths = (f"{tree}/src", f"{tree}/adapters/fastapi", f"{tree}/adapters/flask")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    process = subprocess.Popen(command, stdout=stdout, text=True, env=env)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


class Server(NamedTuple):
    """A running server: its webhook URL and process id."""

    url: str
    pid: int


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(kind: str, database: str, twilio_url: str, tree: str | None = None) -> Iterator[Server]:
    """A server of ``kind`` on core 0, once it answers (``taskset`` execs it: same pid)."""
    port = free_port()
    args = ["--serve", kind, "--port", str(port), "--db", database, "--twilio", twilio_url]
    with child(0, *args, tree=tree) as process:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Server(f"http://127.0.0.1:{port}{WEBHOOK}", process.pid)


@contextlib.contextmanager
def twilio() -> Iterator[tuple[str, int]]:
    """The fake Twilio on core 1: its base URL and the port that tells its reply count."""
    counter = free_port()
    with child(1, "--twilio-server", "--port", str(counter), output=True) as process:
        assert process.stdout is not None
        yield process.stdout.readline().strip(), counter


def replies(counter: int) -> int:
    """How many requests the fake Twilio answered so far."""
    with socket.create_connection(("127.0.0.1", counter)) as sock:
        return int(sock.makefile().read() or 0)


def write_webhooks(path: Path, count: int) -> None:
    """``count`` signed webhooks, one per line: signature, tab, form body."""
    signer = TwilioSigner(AUTH_TOKEN)
    url = PUBLIC_URL + WEBHOOK
    with path.open("w") as out:
        for n in range(count):
            form = {"MessageSid": f"SM{n:032x}", "AccountSid": ACCOUNT_SID, "Body": f"hello {n}",
                    "From": f"whatsapp:+1415555{n % 1000:04d}", "To": f"whatsapp:{NUMBER}",
                    "NumMedia": "0"}  # fmt: skip
            body = "&".join(f"{k}={quote(v, safe='')}" for k, v in form.items())
            out.write(f"{signer.signature(url, form)}\t{body}\n")


def wrk(
    url: str,
    webhooks: Path,
    first: int,
    count: int,
    seconds: int,
    pause_ms: int = 0,
    in_step: bool = False,
) -> Figures:
    """One wrk run posting lines ``first+1..first+count`` (then repeating them); with
    ``pause_ms``, each connection waits that long on average (exactly, if ``in_step``)."""
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s",
               "--timeout", "30s", "--latency", "-s", str(LUA), url, "--",
               str(webhooks), str(first), str(count), str(pause_ms), str(int(in_step))]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode:
        raise RuntimeError(f"wrk failed: {done.stderr.strip()}")
    out = done.stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    r = json.loads(line[4:])
    if r["status_errors"]:
        raise RuntimeError(f"{url}: {r['status_errors']} answers were not 2xx")
    answered = r["requests"]
    # Socket errors (a request unanswered after wrk's 30 s, a dropped connection) are counted
    # and reported: a webhook Twilio gave up on.
    return Figures(answered / (r["duration_us"] / 1e6), r["p50_us"] / 1e3, r["p99_us"] / 1e3,
                   answered, r["repeats"], errors=r["socket_errors"],
                   load_cpu=load_cpu / (r["duration_us"] / 1e6))  # fmt: skip


class Bench:
    """The servers, each with its own range of webhook lines (MessageSids never reused)."""

    def __init__(self, servers: dict[str, Server], webhooks: Path, counter: int) -> None:
        self.servers = servers
        self.webhooks = webhooks
        self.counter = counter
        self.next_line = dict.fromkeys(servers, 0)
        self.rate = dict.fromkeys(servers, 3000.0)

    def run(self, kind: str, seconds: int, pause_ms: int = 0, in_step: bool = False) -> Figures:
        """One run; background kinds also wait for every reply at the fake Twilio."""
        first = self.next_line[kind]
        count = min(int(self.rate[kind] * seconds * 1.5) + 500, LINES - first)
        sent_before = replies(self.counter)
        began = time.perf_counter()
        server = self.servers[kind]
        cpu = cpu_seconds(server.pid)
        figures = wrk(server.url, self.webhooks, first, count, seconds, pause_ms, in_step)
        # Requests still in flight when wrk stopped were answered too: never post them again.
        self.next_line[kind] = first + min(figures.answered + CONNECTIONS, count)
        if "background" in kind:
            while replies(self.counter) - sent_before < figures.answered:
                if time.perf_counter() - began > DRAIN_SECONDS:
                    got = replies(self.counter) - sent_before
                    raise RuntimeError(f"{kind}: {got} of {figures.answered} replies arrived")
                time.sleep(0.02)
            figures = figures._replace(e2e=figures.answered / (time.perf_counter() - began))
        # Background kinds: until every reply went out, so the CPU of answering is counted.
        used = cpu_seconds(server.pid) - cpu
        return figures._replace(cpu_us=used / max(figures.answered, 1) * 1e6)

    def measure(self) -> tuple[dict[str, Figures], dict[str, Figures], dict[str, Figures]]:
        """Warm-up, interleaved rounds (median by rate), then walker at half its maximum."""
        for kind in self.servers:
            self.rate[kind] = self.run(kind, WARM_UP).rps
        runs: dict[str, list[Figures]] = {kind: [] for kind in self.servers}
        for _ in range(ROUNDS):
            for kind in self.servers:
                runs[kind].append(self.run(kind, DURATION))
                self.rate[kind] = runs[kind][-1].rps
        best = {k: sorted(f, key=lambda x: x.rps)[len(f) // 2] for k, f in runs.items()}
        half: dict[str, Figures] = {}
        in_step: dict[str, Figures] = {}
        for kind, figures in best.items():
            if kind.startswith("walker"):
                target = (figures.e2e or figures.rps) / 2
                pause = round(CONNECTIONS * 1000 / target)
                half[kind] = self.run(kind, 2 * DURATION, pause_ms=pause)
                in_step[kind] = self.run(kind, 2 * DURATION, pause_ms=pause, in_step=True)
        return best, half, in_step


def report(best: dict[str, Figures], half: dict[str, Figures], in_step: dict[str, Figures]) -> None:
    """The table: rates, p99, ratios to the bare endpoint of the same run."""
    bare = best["bare"].rps
    print(f"wrk, {CONNECTIONS} connections, {DURATION} s runs, median of {ROUNDS} interleaved; "
          "server on core 0, wrk and fake Twilio on core 1")  # fmt: skip
    print(f"{'server':<38} {'req/s':>7} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'cpu µs':>7} "
          f"{'e2e/s':>6} {'e2e ratio':>9} {'half: req/s':>11} {'p99 ms':>7} "
          f"{'in step: p99 ms':>15}")  # fmt: skip
    for kind, f in best.items():
        e2e = f"{f.e2e:>6.0f} {f.e2e / bare:>9.3f}" if f.e2e else f"{'-':>6} {'-':>9}"
        h = half.get(kind)
        s = in_step.get(kind)
        at_half = f"{h.rps:>11.0f} {h.p99:>7.1f}" if h else f"{'-':>11} {'-':>7}"
        at_half += f" {s.p99:>15.1f}" if s else f" {'-':>15}"
        flag = f"  ({f.repeats} repeats)" if f.repeats else ""
        lost = sum(x.errors for x in (f, h, s) if x is not None)
        flag += f"  ({lost} unanswered)" if lost else ""
        print(f"{kind:<38} {f.rps:>7.0f} {f.rps / bare:>6.3f} {f.p50:>7.1f} {f.p99:>7.1f} "
              f"{f.cpu_us:>7.0f} {e2e} {at_half}{flag}")  # fmt: skip
    # The load generator must stay far from its own limit, or it, not the server, sets the rate.
    busiest = max(f.load_cpu for f in best.values())
    print(
        f"wrk's own CPU: {best['bare'].load_cpu:.0%} of its core against the bare endpoint, "
        f"at most {busiest:.0%} in any median run"
    )


@contextlib.contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A fresh schema on the benchmark's PostgreSQL, dropped afterwards (``None``: no server)."""
    url = os.environ.get("WALKER_BENCH_POSTGRES_URL") or os.environ.get("WALKER_TEST_POSTGRES_URL")
    if not url:
        yield None
        return
    import psycopg

    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{url}#{schema}"
        finally:
            names = ", ".join(f"{schema}{suffix}" for suffix in ("", "_q", "_b", "_qb", "_bb"))
            conn.execute(f"DROP SCHEMA IF EXISTS {names} CASCADE")


def walker_pg_url(target: str, name: str) -> str:
    """A walker-channels database URL on its own schema ``<schema>_<name>`` (created)."""
    import psycopg

    url, _, schema = target.partition("#")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}_{name}")
    return f"{url}?options={quote(f'-csearch_path={schema}_{name}')}"


def main() -> None:
    """Start every server, measure, print."""
    if shutil.which("wrk") is None:
        sys.exit("this benchmark needs wrk: sudo apt-get install wrk (Debian/Ubuntu)")
    if (os.cpu_count() or 1) < 2:
        sys.exit("this benchmark pins the server and the load to two different cores")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        webhooks = Path(tmp) / "webhooks.txt"
        write_webhooks(webhooks, LINES)
        twilio_url, counter = stack.enter_context(twilio())
        pg = stack.enter_context(postgres_schema())
        kinds: dict[str, tuple[str, str, str | None]] = {
            "bare": ("bare", "", None),
            "durable, SQLite": ("durable", f"{tmp}/durable.db", None),
        }
        trees = {"": None} | ({" [before]": BEFORE} if BEFORE else {})
        for mark, tree in trees.items():
            for mode in ("queue", "background"):
                db = f"sqlite:///{tmp}/{mode}{mark.strip(' []')}.db"
                kinds[f"walker {mode}, SQLite{mark}"] = (f"walker-{mode}", db, tree)
        if pg is not None:
            kinds["durable, PostgreSQL"] = ("durable", pg, None)
            for mark, tree in trees.items():
                for mode in ("queue", "background"):
                    db = walker_pg_url(pg, mode[0] + ("b" if tree else ""))
                    kinds[f"walker {mode}, PostgreSQL{mark}"] = (f"walker-{mode}", db, tree)
        else:
            print("no WALKER_BENCH_POSTGRES_URL / WALKER_TEST_POSTGRES_URL: SQLite only")
        servers = {
            name: stack.enter_context(server(kind, db, twilio_url, tree))
            for name, (kind, db, tree) in kinds.items()
        }
        report(*Bench(servers, webhooks, counter).measure())
        # Stop the servers before the PostgreSQL schema they use is dropped.
        stack.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve")
    parser.add_argument("--twilio-server", action="store_true")
    parser.add_argument("--port", type=int)
    parser.add_argument("--db", default="")
    parser.add_argument("--twilio", default="")
    options = parser.parse_args()
    if options.twilio_server:
        fake_twilio(options.port)
    elif options.serve:
        serve(options.serve, options.port, options.db, options.twilio)
    else:
        main()
