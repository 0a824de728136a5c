"""Webhook throughput and latency: the FastAPI adapter next to a bare signature-checking endpoint.

Both servers run under uvicorn, each in its own process, on 127.0.0.1; one async httpx load
generator (bounded concurrency, bounded count) posts distinct signed inbound WhatsApp
webhooks (each its own MessageSid, all signed before the clock starts) to each in turn:

- **bare**: a FastAPI endpoint that parses the form and checks ``X-Twilio-Signature`` with the
  official ``twilio`` package's ``RequestValidator``, then answers empty TwiML. Nothing else.
- **walker**: ``create_router`` on real services: SQLite file, the instant echo agent, and the
  reply sent by ``TwilioTransport`` to a simulated Twilio
  (``walker_channels.testing.twilio_server``, no latency) in a third process; agent work runs
  after the answer (background, the default).
- **walker, recording**: the same, with an in-process recording transport instead of Twilio.
- **walker, queue+worker**: ``WALKER_WEBHOOK_PROCESSING=queue``: the server only accepts, and a
  worker process (the sweep loop of ``walker-channels worker``) on the same SQLite file answers.

Reported per server: webhooks answered per second, latency p50/p95/p99, and for walker the
rate at which replies were recorded (end to end). Rounds alternate; the median run is kept.
Last, where a walker webhook's time goes: its database work, one message at a time.

Run: ``python benchmarks/bench_webhooks.py`` (or ``nox -s bench -- bench_webhooks``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import httpx
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.app.sweeper import Sweeper
from walker_channels.models import Channel, Scope, StatsQuery
from walker_channels.sql import SqlStores
from walker_channels.testing import RecordingTransport, TwilioSigner
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from walker_channels.twilio import parse_inbound_form
from walker_channels_fastapi import create_router

TOTAL = 600
WARM_UP = 100
CONCURRENCY = 32
ROUNDS = 3
NUMBER, PERSON = "+14155238886", "+14155552671"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
DRAIN_SECONDS = 120.0
Signed = list[tuple[dict[str, str], bytes]]


class Figures(NamedTuple):
    """One run: answers per second, latency percentiles in ms, end-to-end seconds."""

    rps: float
    p50: float
    p95: float
    p99: float
    drained: float | None = None


def bare_app() -> FastAPI:
    """A FastAPI endpoint that only verifies the signature with the official ``twilio``."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    app = FastAPI()

    @app.post(WEBHOOK)
    async def webhook(request: Request) -> Response:
        form = await request.form()
        params = {name: str(value) for name, value in form.items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(str(request.url), params, signature):
            return Response(status_code=403)
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', media_type="text/xml")

    return app


def walker_services(
    port: int, database: Path, twilio_url: str | None, processing: str = "background"
) -> Services:
    """Services on SQLite with the echo agent and a simulated (or recording) Twilio."""
    settings = Settings(
        walker_webhook_processing=processing,
        walker_database_url=f"sqlite+aiosqlite:///{database}",
        walker_pseudonym_key="bench-pseudonym-key",
        walker_public_url=f"http://127.0.0.1:{port}",
        walker_sweep_interval=0,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_from=f"whatsapp:{NUMBER}",
        twilio_api_base_url=twilio_url or "http://127.0.0.1:9",
    )
    recording = None if twilio_url else RecordingTransport(Channel.WHATSAPP)

    async def seed(services: Services) -> None:
        await sql_stores(services).tenants.add_number("bench", NUMBER)

    return build_services(
        settings, agent=echo_agent(confidence=0.9), whatsapp_transport=recording, on_start=[seed]
    )


def sql_stores(services: Services) -> SqlStores:
    """The SQL stores the services were built with."""
    assert isinstance(services.stores, SqlStores)
    return services.stores


def walker_app(port: int, database: Path, twilio_url: str | None, processing: str) -> FastAPI:
    """The library's router on :func:`walker_services`, and a count of the replies sent."""
    services = walker_services(port, database, twilio_url, processing)
    app = FastAPI()
    app.include_router(create_router(services))

    @app.get("/bench/replies")
    async def replies() -> int:
        query = StatsQuery(scope=Scope(tenant_ids=None))
        stats = await sql_stores(services).monitoring.stats(query)
        return stats.outbound_total + stats.failed_total

    return app


def serve(kind: str, port: int, database: Path, twilio_url: str | None) -> None:
    """The child process: one server until terminated."""
    import uvicorn

    processing = "queue" if kind == "walker-queue" else "background"
    app = bare_app() if kind == "bare" else walker_app(port, database, twilio_url, processing)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def work(database: Path, twilio_url: str | None) -> None:
    """The child process: a worker answering the queue-mode server's messages until terminated."""
    services = walker_services(0, database, twilio_url or None, "queue")
    worker = Sweeper(
        conversations=services.conversations, review=services.review, interval=0.02, batch=32
    )

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await services.start()
        try:
            await worker.run(stop)
        finally:
            await services.close()

    asyncio.run(main())


def free_port() -> int:
    """A free port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def child(*args: str) -> Iterator[subprocess.Popen[str]]:
    """A Python child process, always terminated."""
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def server(kind: str, database: Path, twilio_url: str | None = None) -> Iterator[str]:
    """A server of ``kind`` in its own process; yields its base URL once it answers."""
    port = free_port()
    args = [__file__, "--serve", kind, "--port", str(port), "--db", str(database)]
    with child(*args, *(["--twilio", twilio_url] if twilio_url else [])):
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/docs", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        if kind != "walker-queue":
            yield url
            return
        # The worker starts once the server has migrated the database.
        with child(__file__, "--work", "--db", str(database), "--twilio", twilio_url or ""):
            yield url


@contextlib.contextmanager
def simulated_twilio() -> Iterator[str]:
    """The Twilio-like Messages API in its own process, answering at once."""
    with child("-m", "walker_channels.testing.twilio_server", "--latency", "0") as process:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        yield f"http://127.0.0.1:{line[1]}"


def inbound(n: int) -> dict[str, str]:
    """Webhook form number ``n`` (its own MessageSid)."""
    return {"MessageSid": f"SM{n:032x}", "AccountSid": ACCOUNT_SID, "Body": f"hello {n}",
            "From": f"whatsapp:{PERSON}", "To": f"whatsapp:{NUMBER}", "NumMedia": "0"}  # fmt: skip


def signed_requests(url: str, count: int, start: int) -> Signed:
    """``count`` distinct signed webhooks (headers, body), MessageSids from ``start``."""
    signer = TwilioSigner(AUTH_TOKEN)
    return [signer.form_request(url + WEBHOOK, inbound(n)) for n in range(start, start + count)]


async def load(url: str, requests: Signed) -> Figures:
    """Post every request with at most ``CONCURRENCY`` in flight; rate and latencies."""
    queue = iter(requests)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            for headers, body in queue:
                began = time.perf_counter()
                response = await client.post(WEBHOOK, content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return Figures(len(requests) / elapsed, cuts[49] * 1e3, cuts[94] * 1e3, cuts[98] * 1e3)


async def drained(url: str, expected: int, began: float) -> float:
    """Seconds from ``began`` until ``expected`` replies were recorded."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while (await client.get("/bench/replies")).json() < expected:
            if time.perf_counter() - began > DRAIN_SECONDS:
                raise RuntimeError("the replies did not all go out in time")
            await asyncio.sleep(0.05)
    return time.perf_counter() - began


async def run(url: str, kind: str, offset: int) -> Figures:
    """One measured run; for walker, also the time until every reply was recorded."""
    requests = signed_requests(url, TOTAL, offset)
    began = time.perf_counter()
    figures = await load(url, requests)
    if kind == "bare":
        return figures
    return figures._replace(drained=await drained(url, offset + TOTAL, began))


async def measure(urls: dict[str, str]) -> dict[str, Figures]:
    """Warm every server up, then alternate measured rounds; the median run of each."""
    for kind, url in urls.items():
        await load(url, signed_requests(url, WARM_UP, 0))
        if kind != "bare":
            await drained(url, WARM_UP, time.perf_counter())
    runs: dict[str, list[Figures]] = {kind: [] for kind in urls}
    for round_ in range(ROUNDS):
        for kind, url in urls.items():
            runs[kind].append(await run(url, kind, WARM_UP + round_ * TOTAL))
    return {kind: sorted(f, key=lambda x: x.rps)[len(f) // 2] for kind, f in runs.items()}


def report(results: dict[str, Figures]) -> None:
    """The table, each rate also as a ratio of the bare endpoint's."""
    bare = results["bare"]
    print(f"{TOTAL} webhooks per run, {CONCURRENCY} in flight, median of {ROUNDS} rounds")
    print(f"{'server':<20} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'ratio':>6} {'replies/s':>10}")  # fmt: skip
    for kind, f in results.items():
        e2e = f"{TOTAL / f.drained:>10.0f}" if f.drained else f"{'-':>10}"
        print(f"{kind:<20} {f.rps:>6.0f} {f.p50:>7.1f} {f.p95:>7.1f} {f.p99:>7.1f} "
              f"{f.rps / bare.rps:>6.2f} {e2e}")  # fmt: skip


async def database_work(database: Path, count: int = 200) -> str:
    """Where a webhook's time goes: milliseconds and SQL statements to accept and to process."""
    services = walker_services(0, database, None)
    await services.start()
    statements = itertools.count()
    # Every engine of the process: SQLite work runs on a stdlib-driver engine of the store's own.
    sa.event.listen(sa.Engine, "before_cursor_execute", lambda *_: next(statements))
    messages = [parse_inbound_form(inbound(n), received_at=datetime.now(UTC)) for n in range(count)]
    conversations = services.conversations
    figures = []
    for step in ("accept", "process"):
        began, first = time.perf_counter(), next(statements)
        for message in messages:
            if step == "accept":
                await conversations.accept(message)
            else:
                await conversations.process(message.provider_message_id)
        seconds, done = time.perf_counter() - began, next(statements) - first - 1
        figures.append(f"{step} {seconds / count * 1e3:.1f} ms, {done / count:.0f} statements")
    await services.close()
    return "walker, per webhook one at a time: " + "; ".join(figures)


def main() -> None:
    """Start the servers, measure, print."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        twilio = stack.enter_context(simulated_twilio())
        urls = {
            "bare": stack.enter_context(server("bare", Path(tmp) / "unused.db")),
            "walker": stack.enter_context(server("walker", Path(tmp) / "walker.db", twilio)),
            "walker, recording": stack.enter_context(server("walker", Path(tmp) / "rec.db")),
            "walker, queue+worker": stack.enter_context(
                server("walker-queue", Path(tmp) / "queue.db", twilio)
            ),
        }
        report(asyncio.run(measure(urls)))
        print(asyncio.run(database_work(Path(tmp) / "diagnose.db")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=["bare", "walker", "walker-queue"])
    parser.add_argument("--work", action="store_true", help="run a queue worker")
    parser.add_argument("--port", type=int)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--twilio")
    options = parser.parse_args()
    if options.work:
        work(options.db, options.twilio)
    elif options.serve:
        serve(options.serve, options.port, options.db, options.twilio)
    else:
        main()
