"""The rate limits hold across processes when they share Redis: two processes sending from
one sender at 1 message/s reach the Twilio-like server at 1 message/s in all, and two
processes sending for one tenant (each from its own sender) at 2 messages/s in all. Without
Redis each process holds the limit alone, so together they send about twice as much.

The assertions count the arrivals the server recorded within a window, with a margin for a
request counted in Redis that reaches the server a little later than the next one."""

from __future__ import annotations

import bisect
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import anyio
import pytest
from anyio.from_thread import start_blocking_portal
from rate_limited_sender import RATE, TENANT_RATE, TO

from walker_channels.exceptions import TransportError
from walker_channels.models import Channel, OutboundMessage
from walker_channels.retrying import RetrySettings
from walker_channels.testing import TwilioLikeServer
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from walker_channels.twilio import TwilioConfig, TwilioTransport

SENDER = Path(__file__).with_name("rate_limited_sender.py")
PROCESSES, SENDS_EACH = 2, 3
TENANT_SENDS_EACH = 4
WINDOW = 2.0
"""Seconds of the window the arrivals are counted in: the limit allows ``rate * WINDOW``."""
JITTER = 0.25
"""Seconds by which a request counted in Redis may reach the server late (scheduling)."""


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


def _send_from_processes(
    server: TwilioLikeServer, tmp_path: Path, mode: str, each: int, *redis: str
) -> list[float]:
    """Arrival times of every message the processes sent, for one new sender or tenant."""
    go, key = tmp_path / "go", ("MG" if mode == "sender" else "tenant-") + uuid4().hex
    command = [sys.executable, str(SENDER), mode, server.base_url, key, str(each), str(go)]
    senders = [subprocess.Popen([*command, *redis]) for _ in range(PROCESSES)]  # noqa: S603
    _wait_until(lambda: len(list(tmp_path.glob("go.ready-*"))) == PROCESSES)
    go.touch()
    for sender in senders:
        assert sender.wait(timeout=60) == 0
    arrivals = [r.arrived_at for r in server.received if r.path.endswith("/Messages.json")]
    assert len(arrivals) == PROCESSES * each
    return sorted(arrivals)


def _wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the sending processes did not start"
        time.sleep(0.01)


def most_within(arrivals: list[float], seconds: float) -> int:
    """The most arrivals in any window of ``seconds`` (sorted arrival times)."""
    return max(bisect.bisect_left(arrivals, t + seconds) - i for i, t in enumerate(arrivals))


def test_the_window_count_counts_the_busiest_window() -> None:
    assert most_within([0.0, 0.5, 1.0, 1.2, 3.0], 1.0) == 3
    assert most_within([0.0, 1.0, 2.0], 1.0) == 1


def test_two_processes_sharing_redis_send_at_most_the_limit_together(
    server: TwilioLikeServer, redis_url: str, tmp_path: Path
) -> None:
    arrivals = _send_from_processes(server, tmp_path, "sender", SENDS_EACH, redis_url)

    # 1 message/s from the sender, whichever process sent.
    assert most_within(arrivals, WINDOW - JITTER) <= RATE * WINDOW


def test_without_a_shared_store_each_process_holds_the_limit_alone(
    server: TwilioLikeServer, tmp_path: Path
) -> None:
    arrivals = _send_from_processes(server, tmp_path, "sender", SENDS_EACH)

    # Each process keeps to 1 message/s, so together they send about twice that.
    assert most_within(arrivals, WINDOW - JITTER) > RATE * WINDOW


def test_two_processes_sharing_redis_send_at_most_the_tenant_limit_together(
    server: TwilioLikeServer, redis_url: str, tmp_path: Path
) -> None:
    arrivals = _send_from_processes(server, tmp_path, "tenant", TENANT_SENDS_EACH, redis_url)

    # 2 messages/s for the tenant, though each process sends from a sender of its own.
    assert most_within(arrivals, WINDOW - JITTER) <= TENANT_RATE * WINDOW


def test_without_a_shared_store_each_process_holds_the_tenant_limit_alone(
    server: TwilioLikeServer, tmp_path: Path
) -> None:
    arrivals = _send_from_processes(server, tmp_path, "tenant", TENANT_SENDS_EACH)

    assert most_within(arrivals, WINDOW - JITTER) > TENANT_RATE * WINDOW


def test_a_shared_store_that_cannot_be_reached_fails_the_send_as_retryable_before_sending(
    server: TwilioLikeServer,
) -> None:
    config = TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        channel=Channel.SMS,
        api_base_url=server.base_url,
        messaging_service_sid="MG" + uuid4().hex,
        rate_per_sender=RATE,
        rate_limit_storage="redis://127.0.0.1:1/0",  # nothing listens on port 1
        retry=RetrySettings(attempts=2, initial_backoff=0),
    )
    message = OutboundMessage(channel=Channel.SMS, to=TO, text="hello")

    async def send() -> None:
        async with TwilioTransport(config) as transport:
            await transport.send(message)

    with pytest.raises(TransportError, match="rate limit store could not be reached") as caught:
        anyio.run(send)

    assert caught.value.retryable is True
    assert [r for r in server.received if r.path.endswith("/Messages.json")] == []
