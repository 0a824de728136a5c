"""Outbound Twilio throughput: messages per second and CPU per message at 1, 32 and 256 in flight.

A Twilio-like Messages API (``walker_channels.testing.twilio_server``) answers every request after
50 ms, in its own process, so the best possible rate is ``in_flight / 0.05`` messages per
second. Our :class:`~walker_channels.twilio.TwilioTransport` runs over each HTTP stack behind
its seam (:class:`~walker_channels.twilio.http.HttpClient`): httpx (sharded pools), aiohttp,
and ``httpx2`` when installed; next to it the official ``twilio`` package's async client
(``AsyncTwilioHttpClient``, aiohttp, default settings). Each client gets exactly ``in_flight``
workers sending back to back for a fixed time; the clients take turns (the order rotating),
three rounds, and the median of each is printed. ``cpu`` is this process's CPU time per message
(the server runs in another process), which moves less than msg/s on a shared machine.

Run: ``python benchmarks/bench_twilio_send.py`` (or ``nox -s bench -- bench_twilio_send``);
``--profile NAME`` instead runs one client at 256 in flight under cProfile and prints where its
CPU goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import importlib.util
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from walker_channels.models import Address, Channel, OutboundMessage
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from walker_channels.twilio import TwilioConfig, TwilioTransport
from walker_channels.twilio.config import HttpClientName
from walker_channels.twilio.http import HttpResponse, RequestMaybeSent

LATENCY = 0.05
LEVELS = (1, 32, 256)
ROUNDS = 3
SECONDS = 3.0
WARM_UP_SECONDS = 0.5
SERVER = "walker_channels.testing.twilio_server"

TO = "+14155552671"
SENDER = "+14155550100"
TEXT = "Hello from the bench"
Send = Callable[[], Awaitable[object]]
PROFILER: cProfile.Profile | None = None
SERVER_PID = 0
"""Set by ``--profile``: on for the measured seconds only (no start-up, no warm-up)."""


@contextlib.contextmanager
def twilio_like_server() -> Iterator[str]:
    """The Twilio-like server in a child process with 50 ms latency; yields its base URL."""
    command = [sys.executable, "-m", SERVER, "--latency", str(LATENCY)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    global SERVER_PID
    SERVER_PID = server.pid
    if len(os.sched_getaffinity(0)) >= 2:  # the server on one core, the clients on another
        os.sched_setaffinity(server.pid, {1})
        os.sched_setaffinity(0, {0})
    try:
        assert server.stdout is not None
        line = server.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            raise RuntimeError("the Twilio-like server did not start")
        yield f"http://127.0.0.1:{line[1]}"
    finally:
        server.terminate()
        server.wait(timeout=10)


class Figures(NamedTuple):
    """One client at one level: messages per second, client CPU time per message, and the
    server's CPU seconds per second (near 1: the server bounds the rate)."""

    rate: float
    cpu_us: float
    server_load: float


def server_cpu() -> float:
    """CPU seconds the Twilio-like server has used (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{SERVER_PID}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(send: Send, in_flight: int) -> Figures:
    """Figures with ``in_flight`` workers sending back to back for ``SECONDS``."""
    await run_for(send, in_flight, WARM_UP_SECONDS)
    if PROFILER is not None:
        PROFILER.enable()
    cpu, served = time.process_time(), server_cpu()
    sent = await run_for(send, in_flight, SECONDS)
    if PROFILER is not None:
        PROFILER.disable()
    cpu_us = (time.process_time() - cpu) / sent * 1e6
    return Figures(sent / SECONDS, cpu_us, (server_cpu() - served) / SECONDS)


async def run_for(send: Send, in_flight: int, seconds: float) -> int:
    deadline = time.perf_counter() + seconds
    counts = [0] * in_flight

    async def worker(index: int) -> None:
        while time.perf_counter() < deadline:
            await send()
            counts[index] += 1

    await asyncio.gather(*(worker(n) for n in range(in_flight)))
    return sum(counts)


def _config(base_url: str, in_flight: int, http_client: HttpClientName = "auto") -> TwilioConfig:
    return TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_base_url=base_url,
        channel=Channel.SMS,
        sender=SENDER,
        max_in_flight=in_flight,
        http_client=http_client,
    )


_MESSAGE = OutboundMessage(
    channel=Channel.SMS, to=Address(channel=Channel.SMS, value=TO), text=TEXT
)


async def ours(base_url: str, in_flight: int, http_client: HttpClientName) -> Figures:
    async with TwilioTransport(_config(base_url, in_flight, http_client)) as transport:
        return await measure(lambda: transport.send(_MESSAGE), in_flight)


class Httpx2Client:
    """The transport's HTTP seam over ``httpx2`` (bench only: every failure counts as unknown)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HttpResponse:
        import httpx2

        try:
            answer = await self._client.request(method, url, content=body, headers=headers)
        except httpx2.HTTPError as exc:
            raise RequestMaybeSent(type(exc).__name__) from exc
        return HttpResponse(answer.status_code, answer.headers.get("retry-after"), answer.content)


async def ours_httpx2(base_url: str, in_flight: int) -> Figures:
    import httpx2

    limits = httpx2.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx2.AsyncClient(limits=limits) as client:
        transport = TwilioTransport(_config(base_url, in_flight), client=Httpx2Client(client))
        async with transport:
            return await measure(lambda: transport.send(_MESSAGE), in_flight)


async def official(base_url: str, in_flight: int) -> Figures:
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    http_client = AsyncTwilioHttpClient()
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client)
    client.api.base_url = base_url
    messages = client.messages

    async def send() -> object:
        return await messages.create_async(to=TO, from_=SENDER, body=TEXT)

    try:
        return await measure(send, in_flight)
    finally:
        await http_client.close()


Run = Callable[[str, int], Awaitable[Figures]]


def clients() -> dict[str, Run]:
    """Every client measured, by name; the official one last (the ratios' baseline)."""
    runs: dict[str, Run] = {
        "httpx": lambda url, level: ours(url, level, "httpx"),
        "aiohttp": lambda url, level: ours(url, level, "aiohttp"),
    }
    if importlib.util.find_spec("httpx2") is not None:
        runs["httpx2"] = ours_httpx2
    else:
        print("httpx2 is not installed: skipped (pip install httpx2)")
    runs["official"] = official
    return runs


async def level_figures(base_url: str, level: int, runs: dict[str, Run]) -> dict[str, Figures]:
    """The median figures of each client over ``ROUNDS`` interleaved rounds."""
    names = list(runs)
    seen: dict[str, list[Figures]] = {name: [] for name in names}
    for round_ in range(ROUNDS):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            seen[name].append(await runs[name](base_url, level))
    return {
        name: Figures(
            statistics.median(f.rate for f in figures),
            statistics.median(f.cpu_us for f in figures),
            statistics.median(f.server_load for f in figures),
        )
        for name, figures in seen.items()
    }


async def main() -> None:
    runs = clients()
    with twilio_like_server() as base_url:
        print(
            f"Twilio-like server: {LATENCY * 1000:.0f} ms per request; {SECONDS:.0f} s per run, "
            f"{ROUNDS} interleaved rounds, medians"
        )
        print("msg/s (share of the ideal in_flight / latency); cpu: client CPU µs per message;")
        print("x: msg/s and cpu over the official client's; server: its CPU share of one core")
        for level in LEVELS:
            ideal = level / LATENCY
            figures = await level_figures(base_url, level, runs)
            base = figures["official"]
            print(f"in flight {level} (ideal {ideal:.0f} msg/s)")
            for name, got in figures.items():
                print(
                    f"  {name:>8}: {got.rate:>7.0f} msg/s ({got.rate / ideal:>4.0%}) "
                    f"{got.cpu_us:>6.0f} µs cpu | x {got.rate / base.rate:>4.2f} msg/s "
                    f"{got.cpu_us / base.cpu_us:>4.2f} cpu | server {got.server_load:>4.0%} busy"
                )


async def profile(name: str) -> None:
    """``name`` at 256 in flight under cProfile: the functions with the most own time."""
    global PROFILER
    PROFILER = cProfile.Profile()
    with twilio_like_server() as base_url:
        figures = await clients()[name](base_url, LEVELS[-1])
    stats = pstats.Stats(PROFILER)
    print(f"{name}: {figures.rate:.0f} msg/s, {figures.cpu_us:.0f} µs cpu (profiled)")
    print("own time by package, share of the profile (C calls counted apart):")
    shares: dict[str, float] = {}
    for (path, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        shares[_package(path)] = shares.get(_package(path), 0.0) + row[2]
    total = sum(shares.values())
    for package, seconds in sorted(shares.items(), key=lambda item: -item[1])[:12]:
        print(f"  {package:<28} {seconds / total:>5.1%}")
    stats.sort_stats("tottime").print_stats(25)


def _package(path: str) -> str:
    """Which package a profiled function's file belongs to."""
    if path == "~":
        return "C (socket, epoll, builtins)"
    if "site-packages/" in path:
        return path.split("site-packages/")[1].split("/")[0]
    if "walker_channels" in path:
        return "walker_channels"
    if "/lib/python3" not in path:
        return path
    return "stdlib " + path.rsplit("/lib/python3", 1)[-1].split("/")[1].removesuffix(".py")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--profile"]:
        asyncio.run(profile(sys.argv[2]))
    else:
        asyncio.run(main())
