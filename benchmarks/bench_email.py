"""Emails per second: 1,000 rendered daily briefs to a local SMTP server (aiosmtpd on loopback).

Compares one reused connection (``SmtpTransport.send_many``) with one connection per email
(``SmtpTransport.send`` outside a session), measured in the same run. The server is aiosmtpd's
``Sink`` in its own process, as a relay would be. Rendering and MIME building are timed
separately. Run: ``python benchmarks/bench_email.py`` (or ``nox -s bench -- bench_email``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime

from walker_channels.email import SmtpConfig, SmtpSecurity, SmtpTransport
from walker_channels.models import Address, Channel, EmailContent, OutboundMessage, SendResult
from walker_channels.services.email import TemplateCatalog

BATCH = 1_000
WARM_UP = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def sink_server() -> Iterator[int]:
    """aiosmtpd's Sink (accepts and drops every message) in a child process; yields its port."""
    port = free_port()
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "-c", "aiosmtpd.handlers.Sink"])  # noqa: S603
    try:
        wait_for(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_for(port: int, *, attempts: int = 100) -> None:
    for _ in range(attempts):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            return
        time.sleep(0.1)
    raise RuntimeError("the SMTP sink did not start")


def mime_rate(transport: SmtpTransport, messages: list[OutboundMessage]) -> float:
    started = time.perf_counter()
    for message in messages:
        transport._prepare(message)  # the MIME building every send does, without the network
    return len(messages) / (time.perf_counter() - started)


def render_briefs(count: int) -> list[EmailContent]:
    catalog = TemplateCatalog()
    analytics = [
        {"label": "Messages received", "value": 1200 + n, "unit": "", "change_pct": 4.5}
        for n in range(5)
    ]
    updates = [
        {"name": f"Campaign {n}", "status": "running", "summary": "On track"} for n in range(3)
    ]
    return [
        catalog.render(
            "daily_brief",
            {
                "recipient_name": f"Reader {n}",
                "brief_date": date(2026, 3, 29).isoformat(),
                "analytics": analytics,
                "campaign_updates": updates,
                "recommendations": ["Answer the open reviews", "Pause the slow campaign"],
            },
            list_unsubscribe_url=f"https://app.example.com/unsubscribe/{n}",
        )
        for n in range(count)
    ]


def messages_for(contents: list[EmailContent]) -> list[OutboundMessage]:
    return [
        OutboundMessage(
            channel=Channel.EMAIL,
            to=Address(channel=Channel.EMAIL, value=f"reader{n}@example.org"),
            email=content,
        )
        for n, content in enumerate(contents)
    ]


async def reused(transport: SmtpTransport, messages: list[OutboundMessage]) -> float:
    started = time.perf_counter()
    outcomes = await transport.send_many(messages)
    elapsed = time.perf_counter() - started
    assert all(isinstance(outcome, SendResult) for outcome in outcomes)
    return elapsed


async def one_connection_each(transport: SmtpTransport, messages: list[OutboundMessage]) -> float:
    started = time.perf_counter()
    for message in messages:
        await transport.send(message)
    return time.perf_counter() - started


def config_for(port: int) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=port,
        sender="Walker Briefs <brief@example.com>",
        security=SmtpSecurity.NONE,
        retries=0,
    )


async def measure(port: int, messages: list[OutboundMessage]) -> tuple[float, float]:
    transport = SmtpTransport(config_for(port))
    await reused(transport, messages[:WARM_UP])
    await one_connection_each(transport, messages[:WARM_UP])
    per_email = await one_connection_each(transport, messages)
    shared = await reused(transport, messages)
    return shared, per_email


def main() -> None:
    started = time.perf_counter()
    contents = render_briefs(BATCH)
    render_seconds = time.perf_counter() - started
    messages = messages_for(contents)

    with sink_server() as port:
        shared, per_email = asyncio.run(measure(port, messages))
        building = mime_rate(SmtpTransport(config_for(port)), messages)

    print(f"email: {BATCH} daily briefs to aiosmtpd on 127.0.0.1 ({datetime.now(UTC):%Y-%m-%d})")
    print(f"  render (Jinja2, text + HTML)      {BATCH / render_seconds:10.0f} briefs/s")
    print(f"  MIME build (no network)           {building:10.0f} emails/s")
    print(f"  one connection per email (base)   {BATCH / per_email:10.0f} emails/s")
    print(f"  one reused connection (send_many) {BATCH / shared:10.0f} emails/s")
    print(f"  ratio reused / per email          {per_email / shared:10.2f}x")


if __name__ == "__main__":
    main()
