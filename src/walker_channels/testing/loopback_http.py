"""The HTTP/1.1 the loopback provider servers speak: read one request, write one JSON answer.

Just enough of the protocol for a client like httpx (keep-alive, ``Content-Length`` bodies),
so each fake provider (Twilio, Meta's Graph API, Telegram's Bot API) only decides what to
answer: it subclasses :class:`LoopbackServer` and implements ``_exchange``.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Self

from anyio.from_thread import start_blocking_portal


@dataclass(frozen=True)
class RawRequest:
    """One request as read off the wire (header names in lower case)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


async def read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    """The next request on the connection; ``None`` once the client has closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawRequest(method, path, headers, body)


class LoopbackServer(ABC):
    """A server on a free port of 127.0.0.1 (``async with`` starts it in the running loop).

    It keeps each connection alive while ``_exchange`` (one request read and answered)
    returns ``True``, and ends every open one on :meth:`close`.
    """

    def __init__(self) -> None:
        self.connections = 0
        """Connections accepted so far."""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the API base URL to configure."""
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=1024)

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @contextmanager
    def in_thread(self) -> Iterator[Self]:
        """Serve on an event loop of its own, in a thread, for synchronous clients (a test
        client of a web app); stopped when the block ends."""
        with start_blocking_portal() as portal:
            portal.call(self.start)
            try:
                yield self
            finally:
                portal.call(self.close)

    @abstractmethod
    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; ``False`` ends the connection."""

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while await self._exchange(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the server is closing
        finally:
            self._tasks.discard(task)
            writer.close()


def json_response(status: int, body: object, headers: Mapping[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response with ``body`` as JSON and any extra ``headers``."""
    payload = json.dumps(body).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"HTTP/1.1 {status} {_reason(status)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}\r\n"
    )
    return head.encode() + payload


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"
