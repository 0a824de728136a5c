"""A Twilio-like Messages API on 127.0.0.1: a real HTTP/1.1 server for the transport's tests.

It behaves like ``api.twilio.com`` where a client can tell: HTTP Basic auth (401 with code 20003
otherwise), the ``/2010-04-01/Accounts/{sid}/Messages.json`` path (404 with code 20404
otherwise), form-encoded bodies (400 with 21604 without ``To``), and ``201`` with a Message
resource and a fresh SID. A test scripts the next answers (error bodies, 429 with or without
``Retry-After``, 500, a dropped connection, a slow answer) and reads what arrived, including the
most requests the server ever had in flight at once.

Run as a script it serves in its own process with a fixed latency, for the benchmark::

    python tests/integration/twilio_server.py --latency 0.05    # prints "PORT <n>", then serves
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import parse_qsl

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "loopback-auth-token"
_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
_REASONS |= {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Received:
    """One request as the server read it."""

    method: str
    path: str
    headers: Mapping[str, str]
    """Header names in lower case."""
    form: tuple[tuple[str, str], ...]
    arrived_at: float

    def field(self, name: str) -> str | None:
        """The first value of form field ``name``."""
        return next((value for key, value in self.form if key == name), None)

    def fields(self, name: str) -> list[str]:
        """Every value of form field ``name``, in order."""
        return [value for key, value in self.form if key == name]

    def basic_auth(self) -> tuple[str, str] | None:
        """The user and password of the ``Authorization: Basic`` header."""
        scheme, _, encoded = self.headers.get("authorization", "").partition(" ")
        if scheme != "Basic":
            return None
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password


@dataclass(frozen=True)
class Answer:
    """What the server does with one request: answer it (after ``delay``) or drop it."""

    status: int = 201
    body: Mapping[str, object] | None = None
    """``None``: a Message resource for the request (on 201)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    """Close the connection without answering."""
    message_status: str = "queued"
    """The ``status`` of the Message resource a 201 returns."""


def created(*, status: str = "queued", delay: float = 0.0) -> Answer:
    """A 201 with a Message resource in ``status``."""
    return Answer(status=201, delay=delay, message_status=status)


def twilio_error(http_status: int, code: int, *, retry_after: str | None = None) -> Answer:
    """An error answer with Twilio's body; the message repeats the number, as Twilio's do."""
    body = {
        "code": code,
        "message": "The 'To' number +14155552671 is not a valid phone number.",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": http_status,
    }
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Answer(status=http_status, body=body, headers=headers)


def dropped() -> Answer:
    """Read the request, then close the connection without a word."""
    return Answer(drop=True)


class TwilioLikeServer:
    """The server; ``async with`` starts it on a free port of 127.0.0.1 in the running loop.

    Requests must authenticate as ``auth_user`` (an API key SID; default the account SID) with
    ``auth_token``. ``latency`` delays every answer; ``record=False`` keeps no requests.
    """

    def __init__(
        self,
        *,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        auth_user: str | None = None,
        latency: float = 0.0,
        record: bool = True,
    ) -> None:
        self.account_sid = account_sid
        user = auth_user or account_sid
        self._auth = "Basic " + base64.b64encode(f"{user}:{auth_token}".encode()).decode()
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._latency = latency
        self._record = record
        self._script: list[Answer] = []
        self._sids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.answered = 0
        self.connections = 0
        """Connections accepted so far."""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the API base URL to configure."""
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def script(self, *answers: Answer) -> None:
        """Use these answers for the next requests, in order; then 201s again."""
        self._script.extend(answers)

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

    async def __aenter__(self) -> TwilioLikeServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

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

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request = await _read_request(reader)
        if request is None:
            return False
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self._record:
                self.received.append(request)
            answer = self._script.pop(0) if self._script else Answer()
            await asyncio.sleep(self._latency + answer.delay)
            if answer.drop:
                return False
            writer.write(self._response(request, answer))
            await writer.drain()
            self.answered += 1
        finally:
            self.in_flight -= 1
        return True

    def _response(self, request: Received, answer: Answer) -> bytes:
        status, body, headers = self._check(request) or (answer.status, answer.body, answer.headers)
        if body is None:
            body = self._message(request, answer.message_status)
        payload = json.dumps(body).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}\r\n"
        )
        return head.encode() + payload

    def _check(
        self, request: Received
    ) -> tuple[int, Mapping[str, object], Mapping[str, str]] | None:
        """Twilio's own refusals, which come before anything a test scripted."""
        if request.headers.get("authorization") != self._auth:
            return 401, _error(20003, 401, "Authenticate"), {}
        if request.method != "POST" or request.path != self._path:
            return 404, _error(20404, 404, "The requested resource was not found"), {}
        if not request.field("To"):
            return 400, _error(21604, 400, "A 'To' phone number is required."), {}
        return None

    def _message(self, request: Received, status: str) -> dict[str, object]:
        sid = f"SM{next(self._sids):032x}"
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "status": status,
            "to": request.field("To"),
            "from": request.field("From"),
            "body": request.field("Body") or "",
            "messaging_service_sid": request.field("MessagingServiceSid"),
            "num_media": str(len(request.fields("MediaUrl"))),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


def _error(code: int, status: int, message: str) -> dict[str, object]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
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
    form = tuple(parse_qsl(body.decode(), keep_blank_values=True))
    return Received(method, path, headers, form, time.monotonic())


async def _serve_forever(latency: float) -> None:
    server = TwilioLikeServer(latency=latency, record=False)
    async with server:
        print(f"PORT {server.base_url.rsplit(':', 1)[1]}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """Serve until killed, with ``--latency`` seconds per request (for the benchmark)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.latency))


if __name__ == "__main__":
    main()
