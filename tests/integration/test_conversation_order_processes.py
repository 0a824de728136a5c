"""Two worker processes on one database answer each conversation one message at a time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ordering_worker import Log, conversations

from walker_channels.models import Address, Channel, InboundMessage
from walker_channels.services import AcceptOutcome
from walker_channels.sql import SqlStores

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("ordering_worker.py")
NUMBER = "+14155238886"
PEOPLE = ["+14155552671", "+14155552672", "+14155552673"]
PER_PERSON = 3


def message(person: int, turn: int) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=f"SM{person}{turn:031}",
        sender=Address(channel=Channel.WHATSAPP, value=PEOPLE[person]),
        recipient=Address(channel=Channel.WHATSAPP, value=NUMBER),
        text=f"p{person}-m{turn}",
        received_at=datetime.now(UTC) + timedelta(milliseconds=turn),
    )


def run_workers(count: int, url: str, schema: str, log: Path) -> list[int]:
    """Start ``count`` worker processes at once and wait for them to finish the queue."""
    command = [sys.executable, str(WORKER), url, schema, str(log)]
    workers = [subprocess.Popen(command) for _ in range(count)]  # noqa: S603 - our own script
    return [worker.wait(timeout=120) for worker in workers]


async def test_two_workers_never_overlap_a_conversation_and_keep_its_order(
    database: tuple[str, str | None], tmp_path: Path
) -> None:
    url, schema = database
    log = tmp_path / "runs.log"
    stores = SqlStores.from_url(url, schema=schema)
    await stores.drop_all()
    await stores.create_all()
    await stores.tenants.add_number("t1", f"whatsapp:{NUMBER}")
    web = conversations(stores, Log(str(log)))
    for turn in range(PER_PERSON):
        for person in range(len(PEOPLE)):
            assert (await web.accept(message(person, turn))).outcome is AcceptOutcome.ACCEPTED
    await stores.dispose()

    assert await asyncio.to_thread(run_workers, 2, url, schema or "", log) == [0, 0]

    runs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    pids: set[str] = set()
    sent: dict[str, list[str]] = defaultdict(list)
    for line in log.read_text().splitlines():
        _, pid, kind, *rest = line.split(" ")
        if kind == "sent":
            sent[rest[0]].append(rest[-1])
            continue
        pids.add(pid)
        person = rest[-1].split("-")[0]
        runs[person].append((kind, rest[-1]))
    for person in range(len(PEOPLE)):
        texts = [f"p{person}-m{turn}" for turn in range(PER_PERSON)]
        # start/end pairs back to back, in arrival order: the runs never overlapped.
        assert runs[f"p{person}"] == [(kind, text) for text in texts for kind in ("start", "end")]
        assert sent[PEOPLE[person]] == [f"{text}" for text in texts]
    assert len(pids) == 2, "both workers took part"
