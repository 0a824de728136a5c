"""The Flask extension under gunicorn's sync worker with ``--preload`` (the app imported in the
master, then forked): the first request after the fork is answered, and while a two-second
agent thinks, webhooks are answered at once and every reply still goes out."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from flask_gunicorn_app import AGENT_SECONDS, REPLY

from walker_channels.testing import TwilioLikeServer, TwilioSigner
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN

HERE = Path(__file__).parent
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
NUMBER = "+14155550100"
FAST = 1.0
"""Seconds a webhook may take to be answered while the agent takes two (generous)."""


@pytest.fixture
def twilio() -> Iterator[TwilioLikeServer]:
    """The Twilio-like server the app sends its replies to, on a loop of its own."""
    server = TwilioLikeServer()
    with start_blocking_portal() as portal:
        portal.call(server.start)
        try:
            yield server
        finally:
            portal.call(server.close)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gunicorn(twilio: TwilioLikeServer, tmp_path: Path) -> Iterator[str]:
    """The app under gunicorn (one sync worker, ``--preload``); yields its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "WALKER_DATABASE_URL": f"sqlite:///{tmp_path / 'walker.db'}",
        "WALKER_PSEUDONYM_KEY": "pseudonym-key-for-tests-0123456789",
        "WALKER_PUBLIC_URL": url,
        "WALKER_SWEEP_INTERVAL": "0",  # only the after-response work may answer
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{NUMBER}",
        "TWILIO_API_BASE_URL": twilio.base_url,
    }
    command = [
        sys.executable, "-m", "gunicorn", "--preload", "--workers", "1",
        "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--chdir", str(HERE),
        "--graceful-timeout", "30", "flask_gunicorn_app:create_app()",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env)  # noqa: S603
    try:
        _wait_for_port(port, server)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, "gunicorn should stop cleanly on SIGTERM"


def _wait_for_port(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not listen")


def _webhook(url: str, n: int) -> httpx.Response:
    """A signed WhatsApp message ``n`` from a person of its own."""
    person = f"+1415555{2600 + n:04d}"
    form = {
        "MessageSid": f"SM{n:032x}",
        "From": f"whatsapp:{person}",
        "To": f"whatsapp:{NUMBER}",
        "Body": "Can you help?",
    }
    headers, body = TwilioSigner(AUTH_TOKEN).form_request(url + WEBHOOK, form)
    return httpx.post(url + WEBHOOK, content=body, headers=headers, timeout=30)


def test_webhooks_are_answered_at_once_while_the_agent_thinks(
    gunicorn: str, twilio: TwilioLikeServer
) -> None:
    first = _webhook(gunicorn, 0)  # the worker's first request: it starts the services
    assert first.status_code == 200

    timings = []
    for n in range(1, 4):
        started = time.monotonic()
        assert _webhook(gunicorn, n).status_code == 200
        timings.append(time.monotonic() - started)

    # One sync worker: had it waited for each agent run, every webhook would wait two seconds.
    assert max(timings) < FAST < AGENT_SECONDS
    deadline = time.monotonic() + 30
    while len(twilio.simulator.messages) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [message.body for message in twilio.simulator.messages] == [REPLY] * 4
