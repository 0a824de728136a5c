"""Run the demo under uvicorn: bind first (so ``--port 0`` works and the URL is known), build,
serve, and print the instructions once the app has started.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from contextlib import closing, suppress
from typing import TextIO

import uvicorn
from sqlalchemy.engine import make_url

from walker_channels.app import Settings
from walker_channels_fastapi.demo.app import create_demo_app
from walker_channels_fastapi.demo.banner import banner
from walker_channels_fastapi.demo.config import DemoOptions, plan_demo


def run_demo(
    options: DemoOptions, settings: Settings | None = None, *, out: TextIO | None = None
) -> int:
    """Serve the demo until interrupted (Ctrl+C); returns the exit status.

    ``settings`` default to :class:`~walker_channels.app.Settings` read from the environment.
    """
    stream = out or sys.stdout
    with closing(bind_socket(options.host, options.port)) as sock:
        port = int(sock.getsockname()[1])
        plan = plan_demo(settings or Settings(), options, port=port)
        app = create_demo_app(plan)
        text = banner(plan, database=describe_database(plan.settings.database_url()))
        config = uvicorn.Config(app, log_level="info", lifespan="on", timeout_graceful_shutdown=5)
        server = AnnouncingServer(config, on_ready=lambda: print(text, file=stream, flush=True))
        # uvicorn shuts down gracefully on Ctrl+C, then raises it again: the end, not an error.
        with suppress(KeyboardInterrupt):
            asyncio.run(server.serve(sockets=[sock]))
    print("walker-channels demo stopped.", file=stream, flush=True)
    return 0 if server.started else 1


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one), for uvicorn to listen on."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls ``on_ready`` once it has started (lifespan included)."""

    def __init__(self, config: uvicorn.Config, *, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then announce."""
        await super().startup(sockets=sockets)
        if self.started:
            self._on_ready()


def describe_database(url: str) -> str:
    """The database for the printout: a SQLite file's path, else the URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return parsed.render_as_string(hide_password=True)
