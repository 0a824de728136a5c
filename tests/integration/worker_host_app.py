"""A host's services factory for ``walker-channels worker --app``: the echo agent, and a
transport that records each reply as a line in ``WORKER_TEST_SENT`` (a file the test reads).

Only tests/integration/test_worker_app.py uses it (run as ``--app worker_host_app:factory``).
"""

from __future__ import annotations

import os
from pathlib import Path

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.models import OutboundMessage, SendResult
from walker_channels.testing import RecordingTransport


class FileTransport(RecordingTransport):
    """Records every send and appends its text to a file, one line each."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await super().send(message)
        with self._path.open("a", encoding="utf-8") as sent:
            sent.write(f"{message.text}\n")
        return result


async def factory() -> Services:
    """The host's services: built from the environment, with its own agent and transport."""
    transport = FileTransport(Path(os.environ["WORKER_TEST_SENT"]))
    return build_services(Settings(), agent=echo_agent(), whatsapp_transport=transport)


def not_services() -> str:
    """A factory that returns something else (the worker refuses it)."""
    return "not services"
