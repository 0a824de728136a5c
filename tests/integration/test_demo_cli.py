"""``walker-channels demo`` as a new user meets it: start it, run what it prints, see the replies.

The demo runs as a subprocess on a free port with its database in a temporary directory. The
tests use only what the demo prints: the signed ``curl`` (sent with httpx, and once more with
``curl`` itself when installed), the read and send commands, and ``walker-channels simulate``.
Every wait is bounded and the process is always stopped.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

STARTUP_SECONDS = 30.0
REPLY_SECONDS = 10.0
STOP_SECONDS = 15.0
READY_LINE = "Press Ctrl+C to stop."
PROVIDER_PREFIXES = ("TWILIO_", "WALKER_", "SMTP_", "LANGFLOW_")
T = TypeVar("T")


def walker_channels() -> list[str]:
    """The installed ``walker-channels`` command (next to this interpreter)."""
    script = Path(sys.executable).with_name("walker-channels")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from walker_channels.cli import main; "
            "sys.exit(main())"]  # fmt: skip


@dataclass
class RunningDemo:
    """The demo process and what it printed."""

    process: subprocess.Popen[bytes]
    output: Path

    def printed(self) -> str:
        """Everything the demo printed so far."""
        return self.output.read_text(errors="replace")

    def command(self, *fragments: str) -> list[str]:
        """The printed command line containing every fragment, split as a shell would."""
        for line in self.printed().splitlines():
            if all(fragment in line for fragment in fragments):
                return shlex.split(line)
        raise AssertionError(f"the demo printed no command with {fragments}:\n{self.printed()}")

    def stop(self) -> int:
        """Ctrl+C, as a user would; killed if it has not stopped in time. Returns the status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)
            raise


def start_demo(directory: Path) -> RunningDemo:
    """``walker-channels demo --port 0 --db ...`` in ``directory``, waited for until ready."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_PREFIXES)}
    output = directory / "demo-output.txt"
    command = [*walker_channels(), "demo", "--port", "0", "--db", str(directory / "demo.db")]
    with output.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - the project's own command
            command, cwd=directory, env=environ, stdout=sink, stderr=subprocess.STDOUT
        )
    demo = RunningDemo(process, output)
    try:
        wait_for(lambda: READY_LINE in demo.printed() or None, STARTUP_SECONDS, demo)
    except BaseException:
        demo.stop()
        raise
    return demo


def wait_for(probe: Callable[[], T | None], seconds: float, demo: RunningDemo) -> T:
    """Poll ``probe`` until it gives something, at most ``seconds``; fail if the demo died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if demo.process.poll() is not None:
            pytest.fail(f"the demo exited ({demo.process.returncode}):\n{demo.printed()}")
        found = probe()
        if found is not None:
            return found
        time.sleep(0.1)
    pytest.fail(f"gave up after {seconds} s; the demo printed:\n{demo.printed()}")


def send(argv: list[str]) -> httpx.Response:
    """Do what a printed ``curl`` command line does, with httpx."""
    method, url, headers, data = "GET", "", {}, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(": ")
            headers[name] = value
        elif arg in ("-d", "--data-raw"):
            data, method = next(args).encode(), "POST" if method == "GET" else method
        elif not arg.startswith("-"):
            url = arg
    return httpx.request(method, url, headers=headers, content=data, timeout=10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """One demo for the scenarios of this module, stopped at the end."""
    running = start_demo(tmp_path_factory.mktemp("demo"))
    try:
        yield running
    finally:
        running.stop()


def outbox(demo: RunningDemo) -> list[dict[str, Any]]:
    """The simulated Twilio's recorded messages, read with the printed command."""
    messages: list[dict[str, Any]] = send(demo.command("curl", "/demo/messages")).json()["messages"]
    return messages


def reply_to(demo: RunningDemo, text: str) -> Callable[[], dict[str, Any] | None]:
    """A probe: the recorded message whose body is ``text``, once there is one."""
    return lambda: next((m for m in outbox(demo) if m["body"] == text), None)


def test_the_printed_curl_gets_a_reply_recorded_and_logged(demo: RunningDemo) -> None:
    webhook = demo.command("curl", "/whatsapp/webhook")

    answer = send(webhook)
    reply = wait_for(reply_to(demo, "Echo: Hello from WhatsApp!"), REPLY_SECONDS, demo)
    log = send(demo.command("curl", "/admin/conversations/whatsapp")).json()["items"]

    assert answer.status_code == 200
    assert answer.text.endswith("<Response/>")
    assert reply["to"] == "whatsapp:+14155552671"
    assert reply["body"] in [e["preview"] for e in log if e["type"] == "outbound"]
    assert "+14155552671" not in json.dumps(log)


def test_a_repeated_delivery_is_answered_but_not_replied_to_again(demo: RunningDemo) -> None:
    webhook = demo.command("curl", "/whatsapp/webhook")
    send(webhook)
    wait_for(reply_to(demo, "Echo: Hello from WhatsApp!"), REPLY_SECONDS, demo)

    if shutil.which("curl"):
        again = subprocess.run(webhook, capture_output=True, timeout=10, check=False)  # noqa: S603
        assert b"200 OK" in again.stdout
    else:
        assert send(webhook).status_code == 200
    time.sleep(0.5)

    replies = [m for m in outbox(demo) if m["body"] == "Echo: Hello from WhatsApp!"]
    assert len(replies) == 1


def test_an_unsure_reply_waits_for_review_until_approved(demo: RunningDemo) -> None:
    simulate = demo.command("walker-channels simulate")
    queue = demo.command("curl", "/hitl/review-queue")

    ran = subprocess.run(  # noqa: S603 - the printed command, run with the installed script
        [*walker_channels(), *simulate[1:]], capture_output=True, timeout=30, check=False
    )
    item = wait_for(lambda: next(iter(send(queue).json()["items"]), None), REPLY_SECONDS, demo)
    approve = [arg.replace("APPROVAL_ID", item["approval_id"]) for arg in demo.command("/approve")]
    approved = send(approve)

    assert ran.returncode == 0, ran.stderr
    assert b"HTTP 200" in ran.stdout
    assert item["confidence"] == 0.2
    assert approved.json()["status"] == "approved"
    wait_for(reply_to(demo, "Echo: I would like a refund for my order"), REPLY_SECONDS, demo)
    assert send(queue).json()["items"] == []


def test_the_printed_send_and_email_commands_work(demo: RunningDemo) -> None:
    send(demo.command("curl", "/whatsapp/webhook"))  # the person writes first: the 24 h window
    wait_for(reply_to(demo, "Echo: Hello from WhatsApp!"), REPLY_SECONDS, demo)

    whatsapp = send(demo.command("curl", "/whatsapp/send"))
    email = send(demo.command("curl", "/email/send"))
    emails = send(demo.command("curl", "/demo/emails")).json()["emails"]

    assert whatsapp.json()["state"] == "sent"
    assert email.json()["status"] == "sent"
    assert [e["subject"] for e in emails] == ["Hello from walker-channels"]
    wait_for(reply_to(demo, "Your order has shipped."), REPLY_SECONDS, demo)


def sms_reply(demo: RunningDemo, text: str) -> Callable[[], dict[str, Any] | None]:
    """A probe: the recorded SMS (no ``whatsapp:`` prefix) whose body is ``text``."""
    return lambda: next(
        (m for m in outbox(demo) if m["body"] == text and m["to"] == "+14155552671"), None
    )


def test_the_printed_sms_curl_is_answered_by_sms_from_the_tenants_sms_number(
    demo: RunningDemo,
) -> None:
    answer = send(demo.command("curl", "/sms/webhook"))
    reply = wait_for(sms_reply(demo, "Echo: Hello from SMS!"), REPLY_SECONDS, demo)
    log = send(demo.command("curl", "/admin/conversations/whatsapp?channel=sms")).json()["items"]

    assert answer.status_code == 200
    assert reply["sender"] == "+14155550123"
    assert {entry["channel"] for entry in log} == {"sms"}
    assert reply["body"] in [e["preview"] for e in log if e["type"] == "outbound"]
    assert "+14155552671" not in json.dumps(log)


def test_an_unsure_sms_waits_for_review_and_the_approved_reply_goes_out_by_sms(
    demo: RunningDemo,
) -> None:
    simulate = demo.command("walker-channels simulate", "--channel sms")
    queue = demo.command("curl", "/hitl/review-queue")

    ran = subprocess.run(  # noqa: S603 - the printed command, run with the installed script
        [*walker_channels(), *simulate[1:]], capture_output=True, timeout=30, check=False
    )

    def sms_draft() -> dict[str, Any] | None:
        return next((i for i in send(queue).json()["items"] if i["channel"] == "sms"), None)

    item = wait_for(sms_draft, REPLY_SECONDS, demo)
    approve = [arg.replace("APPROVAL_ID", item["approval_id"]) for arg in demo.command("/approve")]

    assert ran.returncode == 0, ran.stderr
    assert b"/sms/webhook -> HTTP 200" in ran.stdout
    assert send(approve).json()["status"] == "approved"
    reply = wait_for(
        sms_reply(demo, "Echo: I would like a refund for my order"), REPLY_SECONDS, demo
    )
    assert reply["sender"] == "+14155550123"


def test_the_printed_sms_send_command_sends_an_sms(demo: RunningDemo) -> None:
    answer = send(demo.command("curl", "/sms/send"))

    assert answer.json()["state"] == "sent"
    reply = wait_for(sms_reply(demo, "Your table is ready."), REPLY_SECONDS, demo)
    assert reply["sender"] == "+14155550123"


def test_without_the_demo_token_the_admin_endpoints_refuse(demo: RunningDemo) -> None:
    log = demo.command("curl", "/admin/conversations/whatsapp")
    token = next(i for i, arg in enumerate(log) if arg.startswith("Authorization"))
    without_token = log[: token - 1] + log[token + 1 :]

    assert send(without_token).status_code == 401


def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    running = start_demo(tmp_path)

    status = running.stop()

    assert status == 0
    assert "walker-channels demo stopped." in running.printed()
    assert "Application shutdown complete" in running.printed()
