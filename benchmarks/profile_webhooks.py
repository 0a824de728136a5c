"""Where a webhook's CPU goes, by stage, in a server under ``wrk`` (py-spy, sampling).

Starts the servers of ``bench_webhooks.py`` one at a time (server on core 0, ``wrk`` and the
fake Twilio on core 1), loads each with ``wrk`` for ``SECONDS`` and samples it with
``py-spy record --gil`` (only the thread holding the GIL, so the samples are Python's own CPU
and no waiting thread is counted). Each sample's innermost frame names its stage; the share
of the time no thread held the GIL is the CPU spent outside Python (SQLite's or libpq's C
code, the kernel's network and thread switches), as the server's core is saturated. The
stages are scaled to the server's CPU per request (``/proc``), measured in the same run.

Run: ``python benchmarks/profile_webhooks.py [kind ...]`` (kinds: ``bare``, ``queue``,
``background``, and with a PostgreSQL URL in ``WALKER_BENCH_POSTGRES_URL`` or
``WALKER_TEST_POSTGRES_URL`` also ``queue-pg``, ``background-pg``); needs ``wrk`` and
``py-spy`` (``pip install py-spy``; sampling another process needs ptrace, as root here).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import bench_webhooks as bench

SECONDS = int(os.environ.get("WALKER_BENCH_SECONDS", "10"))
RATE = 200
"""py-spy samples per second."""
STAGES = (
    ("parse + signature", ("signatures.py", "hmac", "twilio/webhooks.py", "twilio/whatsapp.py",
                           "twilio/forms.py", "phones.py", "phonenumbers", "urls.py",
                           "webhook_auth.py", "urllib/parse")),
    ("models (pydantic)", ("pydantic",)),
    ("SQL (SQLAlchemy)", ("sqlalchemy",)),
    ("driver (psycopg's Python)", ("psycopg",)),
    ("outbound (aiohttp, transport)", ("aiohttp", "twilio/transport.py", "twilio/aio.py",
                                       "yarl", "multidict")),
    ("HTTP (uvicorn, h11, Starlette, FastAPI)", ("uvicorn", "h11", "starlette", "fastapi",
                                                 "walker_channels_fastapi", "web/limits.py",
                                                 "web/requests.py")),
    ("threads, event loop", ("asyncio", "threading", "concurrent", "selectors", "queue.py",
                             "sql/sqlite.py", "sql/postgres.py", "sql/engine.py")),
    ("walker-channels (services, stores)", ("walker_channels",)),
)  # fmt: skip
OTHER = "other Python (json, logging, stdlib)"
OUTSIDE = "outside Python (C code, kernel, switches)"
_FILE = re.compile(r"\((.*?):\d+\)")


def stage_of(frame: str) -> str:
    """The stage of a sample by its innermost frame's file."""
    found = _FILE.search(frame)
    where = found.group(1) if found else frame
    return next((name for name, marks in STAGES if any(m in where for m in marks)), OTHER)


def shares(raw: Path, seconds: float) -> dict[str, float]:
    """Each stage's share of the server's CPU, from py-spy's raw (collapsed) output."""
    counts: Counter[str] = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if n.isdigit():
            counts[stage_of(stack.split(";")[-1])] += int(n)
    total = sum(counts.values())
    held = min(total / (RATE * seconds), 1.0)
    result = {name: counts[name] / total * held for name, _ in STAGES}
    result[OTHER] = counts[OTHER] / total * held
    result[OUTSIDE] = 1.0 - held
    return result


def py_spy() -> str | None:
    """The py-spy program: on the PATH, or beside this Python (a venv's ``bin``)."""
    beside = Path(sys.executable).with_name("py-spy")
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def profile(kind: str, database: str, webhooks: Path, twilio_url: str) -> None:
    """One server under wrk, sampled; prints its stages in µs per request."""
    with bench.server(kind, database, twilio_url) as server, tempfile.TemporaryDirectory() as tmp:
        bench.wrk(server.url, webhooks, 0, 3_000, bench.WARM_UP)
        raw = Path(tmp) / "samples.txt"
        command = [py_spy() or "py-spy", "record", "--gil", "--nonblocking", "-p", str(server.pid),
                   "-r", str(RATE), "-d", str(SECONDS), "-f", "raw", "-o", str(raw)]  # fmt: skip
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        cpu = bench.cpu_seconds(server.pid)
        figures = bench.wrk(server.url, webhooks, 3_000, bench.LINES - 3_000, SECONDS)
        per_request = (bench.cpu_seconds(server.pid) - cpu) / figures.answered * 1e6
        spy.wait()
        print(f"\n{kind} on {database.split(':', 1)[0] or 'no database'}: {figures.rps:,.0f} req/s "
              f"under py-spy, {per_request:,.0f} µs of CPU per request")  # fmt: skip
        for name, share in shares(raw, SECONDS).items():
            print(f"  {name:<44} {share:>6.1%} {share * per_request:>7,.0f} µs")


def main() -> None:
    """The kinds asked for (all by default)."""
    if shutil.which("wrk") is None or py_spy() is None:
        sys.exit("this profile needs wrk (apt-get install wrk) and py-spy (pip install py-spy)")
    kinds = {"bare": "bare", "queue": "walker-queue", "background": "walker-background"}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        databases = {name: f"sqlite:///{tmp}/{name}.db" for name in kinds}
        pg = stack.enter_context(bench.postgres_schema())
        if pg is not None:
            for name in ("queue", "background"):
                kinds[f"{name}-pg"] = kinds[name]
                databases[f"{name}-pg"] = bench.walker_pg_url(pg, name[0])
        wanted = sys.argv[1:] or list(kinds)
        webhooks = Path(tmp) / "webhooks.txt"
        bench.write_webhooks(webhooks, bench.LINES)
        twilio_url, _ = stack.enter_context(bench.twilio())
        for name in wanted:
            profile(kinds[name], databases[name], webhooks, twilio_url)


if __name__ == "__main__":
    main()
