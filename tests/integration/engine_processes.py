"""The task-engine tests' processes and traffic: an example's web app and workers, as deployed.

The web process (uvicorn) and the workers (the engine's own CLI) are started from the
repository's root with the examples' commands, on one PostgreSQL schema, against a Twilio-like
server in the test's process. Each process gets a session of its own, so a kill takes its
children (Celery's prefork pool) with it. Output goes to files the failures show.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from walker_channels.sql import SqlStores
from walker_channels.testing import TwilioLikeServer, TwilioSigner
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN

ROOT = Path(__file__).resolve().parents[2]
BUSINESS = "+14155238886"
PUBLIC_URL = "https://engine.example.test"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
LEASE_SECONDS = 2
"""The processing lease: a killed worker's messages are taken over this long after."""
SEND_LATENCY = 0.05
"""Seconds the Twilio-like server takes per send, as Twilio does: a kill lands mid-message."""
READY_SECONDS = 60.0
ANSWER_SECONDS = 90.0
"""At most this long for the replies: a reply whose worker died before it reached Twilio is
looked up there, and sent, a minute later (``SendRecoveryPolicy.lookup_delay``)."""


def environment(database_url: str, twilio_url: str, **extra: str) -> dict[str, str]:
    """What every process of the deployment reads (the examples' documented settings)."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TWILIO_", "WALKER_", "LANGFLOW_", "CELERY_", "TASKIQ_"))
    }
    return {
        **inherited,
        "WALKER_DATABASE_URL": database_url,
        "WALKER_PSEUDONYM_KEY": "engine-test-pseudonym-key",
        "WALKER_PUBLIC_URL": PUBLIC_URL,
        "WALKER_PROCESSING_LEASE": str(LEASE_SECONDS),
        "WALKER_SWEEP_INTERVAL": "0.5",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{BUSINESS}",
        "TWILIO_API_BASE_URL": twilio_url,
        **extra,
    }


class Process:
    """One process of the test's own, in a session of its own; output to ``<logs>/<name>.log``."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        with self.log.open("ab") as output:
            self._process = subprocess.Popen(  # noqa: S603 - the examples' own commands
                [sys.executable, *args],
                env=dict(env),
                cwd=ROOT,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )

    def output(self) -> str:
        """Everything it wrote so far."""
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL to it and its children: no cleanup, no acknowledgement, as a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def stop(self) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it has not ended within 15 s."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)  # children a warm shutdown left


@contextlib.contextmanager
def stopped_at_exit() -> Iterator[list[Process]]:
    """A list to put processes in; each is stopped at the end, whatever happened."""
    processes: list[Process] = []
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()


def web(module: str, env: Mapping[str, str], logs: Path) -> tuple[Process, str]:
    """``uvicorn examples.<module>:app`` on a free port; the process and its base URL."""
    port = free_port()
    args = ["-m", "uvicorn", f"examples.{module}:app", "--host", "127.0.0.1", "--port", str(port)]
    return Process("web", [*args, "--log-level", "warning"], env, logs), f"http://127.0.0.1:{port}"


async def until_serving(process: Process, url: str) -> None:
    """Wait until the web process answers (uvicorn listens once the services started)."""
    deadline = time.monotonic() + READY_SECONDS
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while True:
            assert process.alive(), f"the web process exited:\n{process.output()[-3000:]}"
            with contextlib.suppress(httpx.TransportError):
                await client.get("/api/v1/admin/health")
                return
            assert time.monotonic() < deadline, f"no answer:\n{process.output()[-3000:]}"
            await asyncio.sleep(0.1)


async def until_logged(process: Process, text: str) -> None:
    """Wait until ``process`` wrote ``text`` (a worker saying it is ready)."""
    deadline = time.monotonic() + READY_SECONDS
    while text not in process.output():
        assert process.alive(), f"{process.name} exited:\n{process.output()[-3000:]}"
        assert time.monotonic() < deadline, f"{process.name}:\n{process.output()[-3000:]}"
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Inbound:
    """One person's message to the business: its conversation (the person) and text."""

    person: int
    turn: int
    run: str

    @property
    def sid(self) -> str:
        return f"SM{self.run}{self.person:04d}{self.turn:04d}".ljust(34, "0")

    @property
    def text(self) -> str:
        return f"c{self.person}-m{self.turn}"

    @property
    def sender(self) -> str:
        return f"+1415555{self.person:04d}"


def conversations(people: int, turns: int, run: str) -> list[list[Inbound]]:
    """``people`` conversations of ``turns`` distinct messages each."""
    return [[Inbound(p, t, run) for t in range(turns)] for p in range(people)]


async def send_twice(url: str, messages: Sequence[Sequence[Inbound]]) -> None:
    """Every conversation at once; each message delivered twice at the same moment (as Twilio
    retries), and a conversation's next message only once both were answered."""
    signer = TwilioSigner(AUTH_TOKEN)
    # Idle connections are dropped before uvicorn's keep-alive (5 s) would close one under a
    # request just sent on it.
    limits = httpx.Limits(max_connections=64, keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def deliver(message: Inbound) -> None:
            form = {
                "MessageSid": message.sid,
                "AccountSid": ACCOUNT_SID,
                "From": f"whatsapp:{message.sender}",
                "To": f"whatsapp:{BUSINESS}",
                "Body": message.text,
            }
            headers, body = signer.form_request(PUBLIC_URL + WEBHOOK, form)
            answer = await client.post(WEBHOOK, content=body, headers=headers)
            assert answer.status_code == 200, answer.text

        async def converse(turns: Sequence[Inbound]) -> None:
            for message in turns:
                await asyncio.gather(deliver(message), deliver(message))

        await asyncio.gather(*(converse(turns) for turns in messages))


def replies(twilio: TwilioLikeServer) -> dict[str, list[str]]:
    """The texts the Twilio-like server was asked to send, per recipient, in arrival order."""
    sent: dict[str, list[str]] = defaultdict(list)
    for request in twilio.received:
        if request.method == "POST" and request.path.endswith("/Messages.json"):
            sent[request.field("To") or ""].append(request.field("Body") or "")
    return sent


def reply_count(twilio: TwilioLikeServer) -> int:
    return sum(len(texts) for texts in replies(twilio).values())


async def until_answered(twilio: TwilioLikeServer, count: int, processes: list[Process]) -> None:
    """Wait until ``count`` replies reached the Twilio-like server."""
    deadline = time.monotonic() + ANSWER_SECONDS
    while reply_count(twilio) < count:
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.output()[-2000:]}" for p in processes)
            raise AssertionError(f"{reply_count(twilio)} of {count} answered\n{logs}")
        await asyncio.sleep(0.1)


async def until_inbox_empty(database_url: str) -> None:
    """Wait until no message waits or is in progress (nothing could still be answered)."""
    stores = SqlStores.from_url(database_url)
    try:
        deadline = time.monotonic() + ANSWER_SECONDS
        while True:
            stats = await stores.inbox.stats(now=datetime.now(UTC))
            if stats.waiting == 0 and stats.in_progress == 0:
                return
            assert time.monotonic() < deadline, f"the inbox still holds {stats}"
            await asyncio.sleep(0.2)
    finally:
        await stores.dispose()


def assert_answered_once(twilio: TwilioLikeServer, messages: Sequence[Sequence[Inbound]]) -> None:
    """Each message got exactly one reply."""
    every = Counter(itertools.chain.from_iterable(replies(twilio).values()))
    expected = [f"Echo: {m.text}" for turns in messages for m in turns]
    assert sorted(every.elements()) == sorted(expected), "some message answered twice or never"


def assert_answered_once_in_order(
    twilio: TwilioLikeServer, messages: Sequence[Sequence[Inbound]]
) -> None:
    """Each message got exactly one reply, and each person got theirs in the order they wrote."""
    assert_answered_once(twilio, messages)
    sent = replies(twilio)
    for turns in messages:
        person = f"whatsapp:{turns[0].sender}"
        assert sent[person] == [f"Echo: {m.text}" for m in turns], f"order broken for {person}"


PEOPLE, TURNS = 10, 20
"""200 distinct messages in 10 conversations, for every engine's scenarios."""
Start = Callable[[dict[str, str], Path, list[Process]], Awaitable[str]]
"""Starts a deployment's web process and two workers into the list; the web URL."""


async def answered_once_in_order(
    start: Start,
    env: dict[str, str],
    twilio: TwilioLikeServer,
    logs: Path,
    run: str,
    *,
    worked: str,
) -> None:
    """Every message, delivered twice, answered once in its conversation's order; both
    workers took part (each logged ``worked``)."""
    messages = conversations(PEOPLE, TURNS, run=run)
    with stopped_at_exit() as processes:
        url = await start(env, logs, processes)
        await send_twice(url, messages)
        await until_answered(twilio, PEOPLE * TURNS, processes)
        await until_inbox_empty(env["WALKER_DATABASE_URL"])
        assert all(worked in worker.output() for worker in processes[1:]), "both took part"
    assert_answered_once_in_order(twilio, messages)


async def answered_once_after_a_kill(
    start: Start, env: dict[str, str], twilio: TwilioLikeServer, logs: Path, run: str
) -> None:
    """A worker killed (SIGKILL) mid-burst: every message still answered exactly once."""
    messages = conversations(PEOPLE, TURNS, run=run)
    with stopped_at_exit() as processes:
        url = await start(env, logs, processes)
        burst = asyncio.create_task(send_twice(url, messages))
        await until_answered(twilio, PEOPLE * TURNS // 5, processes)
        processes[1].kill()  # a worker (and its pool), mid-burst
        await burst
        await until_answered(twilio, PEOPLE * TURNS, processes)
        await until_inbox_empty(env["WALKER_DATABASE_URL"])
    # Once each; not always in order: a reply the dead worker had not sent yet is sent by the
    # sweeper after its lookup delay, behind the conversation's later replies.
    assert reply_count(twilio) == PEOPLE * TURNS
    assert_answered_once(twilio, messages)


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
