"""Outbound Twilio throughput: messages per second at 1, 32 and 256 requests in flight.

A Twilio-like Messages API (``walker_channels.testing.twilio_server``) answers every request after
50 ms, in its own process, so the best possible rate is ``in_flight / 0.05`` messages per
second. Our :class:`~walker_channels.twilio.TwilioTransport` (one pooled httpx client, the
in-flight bound set to the level) runs next to the official ``twilio`` package's async client
(``AsyncTwilioHttpClient``, aiohttp, default settings) in the same run, each with exactly
``in_flight`` workers sending back to back for a fixed time. Figures are printed as messages
per second, as a share of the ideal, and as our rate over the official client's.

Run: ``python benchmarks/bench_twilio_send.py`` (or ``nox -s bench -- bench_twilio_send``).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import NamedTuple

from walker_channels.models import Address, Channel, OutboundMessage
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from walker_channels.twilio import TwilioConfig, TwilioTransport

LATENCY = 0.05
LEVELS = (1, 32, 256)
SECONDS = 3.0
WARM_UP_SECONDS = 0.5
SERVER = "walker_channels.testing.twilio_server"

TO = "+14155552671"
SENDER = "+14155550100"
Send = Callable[[], Awaitable[object]]


@contextlib.contextmanager
def twilio_like_server() -> Iterator[str]:
    """The Twilio-like server in a child process with 50 ms latency; yields its base URL."""
    command = [sys.executable, "-m", SERVER, "--latency", str(LATENCY)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
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
    """One client at one level: messages per second, and client CPU time per message."""

    rate: float
    cpu_us: float


async def measure(send: Send, in_flight: int) -> Figures:
    """Figures with ``in_flight`` workers sending back to back for ``SECONDS``."""
    await run_for(send, in_flight, WARM_UP_SECONDS)
    cpu = time.process_time()
    sent = await run_for(send, in_flight, SECONDS)
    return Figures(sent / SECONDS, (time.process_time() - cpu) / sent * 1e6)


async def run_for(send: Send, in_flight: int, seconds: float) -> int:
    deadline = time.perf_counter() + seconds
    counts = [0] * in_flight

    async def worker(index: int) -> None:
        while time.perf_counter() < deadline:
            await send()
            counts[index] += 1

    await asyncio.gather(*(worker(n) for n in range(in_flight)))
    return sum(counts)


async def ours(base_url: str, in_flight: int) -> Figures:
    config = TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        api_base_url=base_url,
        channel=Channel.SMS,
        sender=SENDER,
        max_in_flight=in_flight,
    )
    message = OutboundMessage(
        channel=Channel.SMS, to=Address(channel=Channel.SMS, value=TO), text="Hello from the bench"
    )
    async with TwilioTransport(config) as transport:
        return await measure(lambda: transport.send(message), in_flight)


async def official(base_url: str, in_flight: int) -> Figures:
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    http_client = AsyncTwilioHttpClient()
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client)
    client.api.base_url = base_url
    messages = client.messages

    async def send() -> object:
        return await messages.create_async(to=TO, from_=SENDER, body="Hello from the bench")

    try:
        return await measure(send, in_flight)
    finally:
        await http_client.close()


async def main() -> None:
    with twilio_like_server() as base_url:
        print(f"Twilio-like server: {LATENCY * 1000:.0f} ms per request, {SECONDS:.0f} s per run")
        print("msg/s: messages per second (share of the ideal in_flight / latency); cpu: client")
        print("CPU microseconds per message; ratio: ours over the official client")
        print(
            f"{'in flight':>9} {'ideal':>6} | {'ours msg/s':>16} {'cpu':>5} | "
            f"{'official msg/s':>16} {'cpu':>5} | {'ratio msg/s':>11} {'cpu':>5}"
        )
        for level in LEVELS:
            ideal = level / LATENCY
            mine = await ours(base_url, level)
            theirs = await official(base_url, level)
            print(
                f"{level:>9} {ideal:>6.0f} | {mine.rate:>7.0f} ({mine.rate / ideal:>5.0%}) "
                f"{mine.cpu_us:>7.0f} | {theirs.rate:>7.0f} ({theirs.rate / ideal:>5.0%}) "
                f"{theirs.cpu_us:>7.0f} | {mine.rate / theirs.rate:>11.2f} "
                f"{mine.cpu_us / theirs.cpu_us:>5.2f}"
            )


if __name__ == "__main__":
    asyncio.run(main())
