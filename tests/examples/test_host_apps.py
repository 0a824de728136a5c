"""The FastAPI and Flask examples: the host's auth decides who calls, the library what they may do.

Each example runs in-process (with a recording transport in place of Twilio) and, once, as the
script a reader would start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import fastapi_app
import flask_app
import httpx
import pytest
from fastapi.testclient import TestClient

from walker_channels.app import Settings
from walker_channels.models import Channel
from walker_channels.testing import RecordingTransport, TwilioSigner
from walker_channels_flask import WalkerChannels
from walker_channels_flask.testing import SettledTransport

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PUBLIC_URL = "https://acme.example.com"
AUTH_TOKEN = "twilio-token-for-the-examples"
NUMBER = "+14155238886"
PERSON = "+14155552671"
WEBHOOK = "/api/v1/channels/whatsapp/webhook"
QUEUE = "/api/v1/admin/hitl/review-queue"
SEND = "/api/v1/channels/whatsapp/send"
STARTUP_SECONDS = 20.0


def example_settings(database: Path) -> Settings:
    """The settings the examples read from the environment, for a test."""
    return Settings(
        walker_database_url=f"sqlite+aiosqlite:///{database}",
        walker_pseudonym_key="pseudonym-key-for-the-examples",
        walker_public_url=PUBLIC_URL,
        walker_sweep_interval=0,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_from=f"whatsapp:{NUMBER}",
    )


@pytest.fixture(params=["fastapi", "flask"])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[httpx.Client, Any]]:
    """A client of the example app and the transport that records its WhatsApp messages."""
    whatsapp = RecordingTransport(Channel.WHATSAPP)
    settings = example_settings(tmp_path / "walker.db")
    with ExitStack() as stack:
        if request.param == "fastapi":
            app = fastapi_app.create_app(settings, whatsapp_transport=whatsapp)
            client: httpx.Client = stack.enter_context(TestClient(app, base_url=PUBLIC_URL))
        else:
            flask = flask_app.create_app(settings, whatsapp_transport=whatsapp)
            stack.callback(WalkerChannels.shutdown, flask)
            transport = SettledTransport(flask)  # returns once its background work ran
            client = stack.enter_context(httpx.Client(transport=transport, base_url=PUBLIC_URL))
        yield client, whatsapp


def inbound(client: httpx.Client, text: str, sid: str) -> httpx.Response:
    """A signed WhatsApp message from the person to the tenant's number."""
    form = {"MessageSid": sid, "From": f"whatsapp:{PERSON}", "To": f"whatsapp:{NUMBER}"}
    form["Body"] = text
    headers, body = TwilioSigner(AUTH_TOKEN).form_request(PUBLIC_URL + WEBHOOK, form)
    return client.post(WEBHOOK, content=body, headers=headers)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of one of the example's API tokens."""
    return {"Authorization": f"Bearer {token}"}


def test_a_confident_answer_is_sent_to_the_person(host: tuple[httpx.Client, Any]) -> None:
    client, whatsapp = host

    assert inbound(client, "What are your opening hours?", "SM" + "1" * 32).status_code == 200

    assert [m.text for m in whatsapp.sent] == ["We are open 9:00-17:00, Monday to Friday."]


def test_an_unsure_answer_waits_for_the_host_admin(host: tuple[httpx.Client, Any]) -> None:
    client, _ = host
    inbound(client, "Can I change my order?", "SM" + "2" * 32)

    queue = client.get(QUEUE, headers=bearer("admin-token"))

    assert queue.status_code == 200
    assert [item["agent_type"] for item in queue.json()["items"]] == ["hours"]
    assert client.get(QUEUE, headers=bearer("acme-token")).status_code == 403
    assert client.get(QUEUE).status_code == 401


def test_a_tenant_member_sends_only_for_their_tenant(host: tuple[httpx.Client, Any]) -> None:
    client, whatsapp = host
    inbound(client, "hours?", "SM" + "3" * 32)

    ann = bearer("acme-token")
    own = client.post(
        SEND, json={"tenant_id": "acme", "to": PERSON, "text": "Shipped!"}, headers=ann
    )
    other = client.post(SEND, json={"tenant_id": "globex", "to": PERSON, "text": "Hi"}, headers=ann)

    assert own.status_code == 200
    assert other.status_code == 403
    assert whatsapp.sent[-1].text == "Shipped!"


def test_the_host_endpoint_sees_the_running_services(host: tuple[httpx.Client, Any]) -> None:
    client, _ = host

    assert client.get("/health").json() == {"channels": ["whatsapp"]}


def free_port() -> int:
    """A port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_script(script: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python examples/<script>`` with Twilio settings in its environment, up and answering;
    yields its URL and process, and stops it (Ctrl+C) at the end."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "WALKER_"))}
    environ |= {
        "PORT": str(port),
        "WALKER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'walker.db'}",
        "WALKER_PSEUDONYM_KEY": "pseudonym-key-for-the-examples",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{NUMBER}",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # never reached: no message is sent
    }
    log = tmp_path / "output.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and example
            [sys.executable, str(EXAMPLES / script)], env=environ, stdout=output, stderr=output
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/health", process, log)
        yield url, process
    finally:
        stop(process)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``url`` answers, at most :data:`STARTUP_SECONDS`; fail if the script died."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the example exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    pytest.fail(f"the example did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl+C, then kill if it has not stopped within 10 s (the exit status tells)."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize("script", ["fastapi_app.py", "flask_app.py"])
def test_the_example_runs_as_a_script(script: str, tmp_path: Path) -> None:
    with running_script(script, tmp_path) as (url, process):
        health = httpx.get(url + "/health", timeout=5)
        unsigned = httpx.post(url + WEBHOOK, data={"MessageSid": "SM1"}, timeout=5)

    assert health.json() == {"channels": ["whatsapp"]}
    assert unsigned.status_code == 403
    assert process.returncode == 0, "Ctrl+C should stop the example cleanly"
