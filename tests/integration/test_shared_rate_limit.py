"""The per-sender rate limit holds across processes when they share Redis: two processes
sending from one sender at 1 message/s reach the Twilio-like server at 1 message/s in all."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from anyio.from_thread import start_blocking_portal

from walker_channels.testing import TwilioLikeServer

SENDER = Path(__file__).with_name("rate_limited_sender.py")
PROCESSES, SENDS_EACH = 2, 3
JITTER = 0.1
"""Seconds two requests counted a full second apart may arrive closer (scheduling, network)."""


@pytest.fixture
def server() -> Iterator[TwilioLikeServer]:
    """A Twilio-like server in this process, on a loop of its own."""
    server = TwilioLikeServer()
    with start_blocking_portal() as portal:
        portal.call(server.start)
        try:
            yield server
        finally:
            portal.call(server.close)


def _send_from_processes(server: TwilioLikeServer, tmp_path: Path, *redis: str) -> list[float]:
    """Arrival times of every message the processes sent, from one new messaging service."""
    go, service = tmp_path / "go", "MG" + uuid4().hex
    command = [sys.executable, str(SENDER), server.base_url, service, str(SENDS_EACH), str(go)]
    senders = [subprocess.Popen([*command, *redis]) for _ in range(PROCESSES)]  # noqa: S603
    _wait_until(lambda: len(list(tmp_path.glob("go.ready-*"))) == PROCESSES)
    go.touch()
    for sender in senders:
        assert sender.wait(timeout=60) == 0
    arrivals = [r.arrived_at for r in server.received if r.path.endswith("/Messages.json")]
    assert len(arrivals) == PROCESSES * SENDS_EACH
    return sorted(arrivals)


def _wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the sending processes did not start"
        time.sleep(0.01)


def _gaps(arrivals: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


def test_two_processes_sharing_redis_send_at_most_the_limit_together(
    server: TwilioLikeServer, redis_url: str, tmp_path: Path
) -> None:
    arrivals = _send_from_processes(server, tmp_path, redis_url)

    # 1 message/s: no two messages of the sender within one second, whichever process sent.
    assert min(_gaps(arrivals)) >= 1 - JITTER


def test_without_a_shared_store_each_process_holds_the_limit_alone(
    server: TwilioLikeServer, tmp_path: Path
) -> None:
    arrivals = _send_from_processes(server, tmp_path)

    # Each process keeps to 1 message/s, so together they send about twice that.
    assert min(_gaps(arrivals)) < 1 - JITTER
