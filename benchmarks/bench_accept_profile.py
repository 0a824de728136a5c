"""Where a message's CPU goes, per stage: parse and signature, accept, process, by package.

In one process, one message at a time unless told otherwise (no HTTP: the bare endpoint of
``bench_webhooks.py`` bounds that stage), on SQLite and PostgreSQL: ``COUNT`` distinct signed
webhook forms are checked (:func:`~walker_channels.signatures.verify_twilio_signature`) and parsed
(:func:`~walker_channels.twilio.parse_inbound_form`), then accepted and processed by the real
services (echo agent, in-process recording transport). ``cProfile`` attributes the self time
of every function to a stage by its package: SQLAlchemy, the database driver, pydantic,
walker-channels, asyncio and threads, the rest. Also the statements per message.

Run: ``python benchmarks/bench_accept_profile.py``; PostgreSQL with
``WALKER_BENCH_POSTGRES_URL`` or ``WALKER_TEST_POSTGRES_URL``. ``WALKER_BENCH_IN_FLIGHT=32``
processes that many messages at once, each from a person of its own (one at a time, the forms
come from 100 people).
"""

from __future__ import annotations

import asyncio
import cProfile
import itertools
import os
import pstats
import secrets
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.models import Channel, InboundMessage
from walker_channels.signatures import compute_twilio_signature, verify_twilio_signature
from walker_channels.sql import SqlStores
from walker_channels.testing import RecordingTransport
from walker_channels.twilio import parse_inbound_form

COUNT = 300
IN_FLIGHT = int(os.environ.get("WALKER_BENCH_IN_FLIGHT", "1"))
PEOPLE = 100 if IN_FLIGHT == 1 else COUNT
TOKEN = "profile-auth-token"
URL = "https://bench.example.com/api/v1/channels/whatsapp/webhook"
NUMBER = "+14155238886"
STAGES = (
    ("SQLAlchemy", ("/sqlalchemy/",)),
    ("driver", ("/psycopg/", "/psycopg_binary/", "/asyncpg/", "sqlite3", "/greenlet/")),
    ("pydantic", ("/pydantic/", "pydantic_core")),
    ("walker-channels", ("/walker_channels/",)),
    ("asyncio, threads", ("/asyncio/", "/concurrent/", "threading.py", "selectors.py")),
)


def stage_of(path: str, name: str) -> str:
    """The stage a profiled function belongs to, by its file (or built-in's name)."""
    where = path + " " + name
    return next((stage for stage, marks in STAGES if any(m in where for m in marks)), "other")


def forms() -> list[tuple[dict[str, str], str]]:
    """``COUNT`` webhook forms from ``PEOPLE`` people, each with its signature."""
    made = []
    for n in range(COUNT):
        form = {"MessageSid": f"SM{n:032x}", "AccountSid": "AC" + "0" * 32, "Body": f"hi {n}",
                "From": f"whatsapp:+1415555{n % PEOPLE:04d}", "To": f"whatsapp:{NUMBER}",
                "NumMedia": "0"}  # fmt: skip
        made.append((form, compute_twilio_signature(TOKEN, URL, form)))
    return made


async def services_on(url: str) -> Services:
    """Started services on ``url`` with the echo agent and a recording transport."""
    settings = Settings(
        walker_database_url=url,
        walker_pseudonym_key="profile-key",
        walker_public_url="https://bench.example.com",
        walker_sweep_interval=0,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=TOKEN,
        twilio_whatsapp_from=f"whatsapp:{NUMBER}",
    )
    services = build_services(
        settings, agent=echo_agent(), whatsapp_transport=RecordingTransport(Channel.WHATSAPP)
    )
    await services.start()
    assert isinstance(services.stores, SqlStores)
    await services.stores.tenants.add_number("bench", f"whatsapp:{NUMBER}")
    return services


async def plain(step: Callable[[], Awaitable[None]]) -> tuple[float, dict[str, float]]:
    """Wall seconds of ``step`` and its CPU seconds, without a profiler (the true cost)."""
    began, cpu = time.perf_counter(), time.process_time()
    await step()
    return time.perf_counter() - began, {"total": time.process_time() - cpu}


async def profiled(step: Callable[[], Awaitable[None]]) -> tuple[float, dict[str, float]]:
    """Wall seconds of ``step`` and its CPU seconds per stage."""
    profile = cProfile.Profile(time.process_time)
    began = time.perf_counter()
    profile.enable()
    await step()
    profile.disable()
    wall = time.perf_counter() - began
    by_stage: dict[str, float] = defaultdict(float)
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (path, _line, name), (_cc, _nc, self_time, _ct, _callers) in stats.items():
        by_stage[stage_of(path, name)] += self_time
    return wall, by_stage


Measured = list[tuple[str, float, dict[str, float], float]]


async def measure(
    url: str,
    timed: Callable[[Callable[[], Awaitable[None]]], Awaitable[tuple[float, dict[str, float]]]],
) -> Measured:
    """Per step: wall s, CPU s (per stage if ``timed`` profiles), statements; per message."""
    services = await services_on(url)
    statements = itertools.count()

    def count(*_: object) -> None:
        next(statements)

    sa.event.listen(sa.Engine, "before_cursor_execute", count)
    signed = forms()
    messages: list[InboundMessage] = []

    async def parse() -> None:
        for form, signature in signed:
            verify_twilio_signature(TOKEN, URL, form, signature)
            messages.append(parse_inbound_form(form, received_at=datetime.now(UTC)))

    async def accept() -> None:
        for message in messages:
            await services.conversations.accept(message)

    slots = asyncio.Semaphore(IN_FLIGHT)

    async def process_one(message: InboundMessage) -> None:
        async with slots:
            await services.conversations.process(message.provider_message_id)

    async def process() -> None:
        await asyncio.gather(*map(process_one, messages))

    rows = []
    for name, step in (("parse+signature", parse), ("accept", accept), ("process", process)):
        first = next(statements)
        wall, stages = await timed(step)
        done = next(statements) - first - 1
        rows.append((name, wall / COUNT, {k: v / COUNT for k, v in stages.items()}, done / COUNT))
    sa.event.remove(sa.Engine, "before_cursor_execute", count)
    await services.close()
    return rows


def report(name: str, bare: Measured, rows: Measured) -> None:
    """Milliseconds per message, per step: without a profiler, then per stage under cProfile
    (which adds its own cost: compare the stages with each other, not with the first CPU)."""
    names = [stage for stage, _ in STAGES] + ["other"]
    print(
        f"{name}: ms per message, {COUNT} messages, processed {IN_FLIGHT} at a time; "
        "stages under cProfile"
    )
    print(f"{'step':<16} {'wall':>6} {'CPU':>6} {'profiled':>8} "
          + " ".join(f"{s[:16]:>16}" for s in names) + f" {'statements':>10}")  # fmt: skip
    for (step, wall, cpu, _), (_, _, stages, statements) in zip(bare, rows, strict=True):
        total = sum(stages.values())
        cells = " ".join(f"{stages.get(s, 0.0) * 1e3:>16.3f}" for s in names)
        print(f"{step:<16} {wall * 1e3:>6.2f} {cpu['total'] * 1e3:>6.2f} {total * 1e3:>8.2f} "
              f"{cells} {statements:>10.1f}")  # fmt: skip


async def main() -> None:
    """SQLite, then PostgreSQL when a server is configured."""
    with tempfile.TemporaryDirectory() as tmp:
        first, second = (f"sqlite:///{Path(tmp) / name}" for name in ("plain.db", "profile.db"))
        report("SQLite", await measure(first, plain), await measure(second, profiled))
    url = os.environ.get("WALKER_BENCH_POSTGRES_URL") or os.environ.get("WALKER_TEST_POSTGRES_URL")
    if not url:
        print("no WALKER_BENCH_POSTGRES_URL / WALKER_TEST_POSTGRES_URL: SQLite only")
        return
    schema = "profile_" + secrets.token_hex(4)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    on_schema = f"{url}?options={quote(f'-csearch_path={schema}')}"
    try:
        bare = await measure(on_schema, plain)
        with engine.begin() as conn:  # the profiled run starts from empty tables too
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        report("PostgreSQL", bare, await measure(on_schema, profiled))
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
