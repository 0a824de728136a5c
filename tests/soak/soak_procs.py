"""The soak test's processes: the faulty Twilio-like server, uvicorn web processes and workers.

Every process is a :class:`Child` started here and ended here by its own pid (SIGKILL for the
test's crashes, SIGTERM at the end). Their output goes to files, which the test reads back to
check that no raw phone number was logged.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
from soak_host import ADMIN_TOKEN

from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN

HERE = Path(__file__).parent
BUSINESS = "+14155238886"
PUBLIC_URL = "https://soak.example.test"
"""What the webhooks are signed for: every web process verifies for it, whatever its port."""
UNSETTLED = "/api/v1/admin/outbound/unsettled"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FAULTS = ("--fail-500", "0.1", "--fail-429", "0.1", "--lose", "0.05", "--drop", "0.05")
LEASE_SECONDS = 2
"""The processing lease: a killed worker's messages are taken over this long after."""
READY_SECONDS = 120.0


class Child:
    """One process of the test's own, restartable with the same command and environment."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], logs: Path) -> None:
        self.name = name
        self._args = [sys.executable, *args]
        self._env = dict(env)
        self._log = logs / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self, *, stdout: int | None = None) -> subprocess.Popen[bytes]:
        """Start the process (again), appending its output to its log."""
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - the test's own commands
                self._args, env=self._env, stdout=stdout or log, stderr=log, cwd=HERE
            )
        return self._process

    def kill(self) -> None:
        """SIGKILL: no cleanup, no finished batch, as a crash."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self.kills += 1

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end within 10 s."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def log_text(self) -> str:
        """Everything the process wrote, over all its runs."""
        return self._log.read_text(errors="replace") if self._log.exists() else ""


class FakeTwilio(Child):
    """The Twilio-like Messages API in its own process, with the soak's seeded faults."""

    def __init__(self, logs: Path, seed: int) -> None:
        module = ("-m", "walker_channels.testing.twilio_server", "--latency", "0")
        super().__init__("twilio", [*module, *FAULTS, "--seed", str(seed)], os.environ, logs)
        self.url = ""

    def begin(self) -> None:
        """Start it and learn its port from the line it prints."""
        process = self.start(stdout=subprocess.PIPE)
        assert process.stdout is not None
        self.url = f"http://127.0.0.1:{process.stdout.readline().split()[1].decode()}"

    async def messages(self) -> list[dict[str, object]]:
        """Every message it recorded (the message list, page by page)."""
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?PageSize=1000"
        found: list[dict[str, object]] = []
        async with httpx.AsyncClient(base_url=self.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
            next_page: str | None = path
            while next_page:
                page = (await client.get(next_page)).raise_for_status().json()
                found.extend(page["messages"])
                next_page = page["next_page_uri"]
        return found


class Web(Child):
    """A uvicorn process serving the soak host app on a port of its own."""

    def __init__(self, name: str, env: Mapping[str, str], logs: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        factory = ("-m", "uvicorn", "--factory", "--app-dir", str(HERE), "soak_host:create_app")
        where = ("--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning")
        super().__init__(name, [*factory, *where], env, logs)

    async def ready(self) -> None:
        """Wait until it answers (its services started)."""
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while True:
                try:
                    if (await client.get(UNSETTLED, headers=ADMIN_HEADERS)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} did not start; see {self.name}.log")
                await asyncio.sleep(0.1)


def worker(name: str, env: Mapping[str, str], logs: Path) -> Child:
    """A ``walker-channels worker`` loop with the echo agent (see soak_worker.py)."""
    return Child(name, [str(HERE / "soak_worker.py")], env, logs)


def environment(database_url: str, processing: str, twilio_url: str) -> dict[str, str]:
    """The settings every soak process reads (as a deployment's environment would hold them)."""
    return {
        **os.environ,
        "WALKER_DATABASE_URL": database_url,
        "WALKER_WEBHOOK_PROCESSING": processing,
        "WALKER_PSEUDONYM_KEY": "soak-pseudonym-key",
        "WALKER_PUBLIC_URL": PUBLIC_URL,
        "WALKER_PROCESSING_LEASE": str(LEASE_SECONDS),
        "WALKER_SWEEP_INTERVAL": "0.5",
        "WALKER_MIGRATE_ON_START": "false",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{BUSINESS}",
        "TWILIO_API_BASE_URL": twilio_url,
    }


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
