"""The simulated Twilio over real HTTP/1.1 on 127.0.0.1, with faults a test can script.

:class:`TwilioLikeServer` parses HTTP and hands every request to a
:class:`~walker_channels.testing.simulated_twilio.SimulatedTwilio`, which answers as
``api.twilio.com`` does (its refusals always win). A test scripts the next answers (error
bodies, 429 with or without ``Retry-After``, 500, a dropped connection, a slow answer) and
reads what arrived, including the most requests the server ever had in flight at once.

Run as a module it serves in its own process with a fixed latency, for the benchmarks, and
optionally with random faults (:class:`FaultRates`, seeded), for the soak tests::

    python -m walker_channels.testing.twilio_server --latency 0.05  # prints "PORT <n>", serves
    python -m walker_channels.testing.twilio_server --fail-500 0.1 --fail-429 0.1 \
        --lose 0.05 --drop 0.05 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from walker_channels.clock import SystemClock
from walker_channels.ports import Clock
from walker_channels.testing.loopback_http import LoopbackServer, json_response, read_request
from walker_channels.testing.simulated_twilio import SimulatedAnswer, SimulatedTwilio, error_answer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "loopback-auth-token"  # noqa: S105 - the loopback server's well-known test token
_NUMBER_IN_MESSAGE = "The 'To' number +14155552671 is not a valid phone number."


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
    """What the server does with one request Twilio would take: answer (after ``delay``) or drop.

    A 201 without a ``body`` is the simulator's own: the message is recorded and its resource
    returned. Any other status or body stands in for Twilio's, and nothing is recorded.
    """

    status: int = 201
    body: Mapping[str, object] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    """Close the connection without answering (the simulator still takes the request)."""
    message_status: str | None = None
    """The ``status`` of the Message resource a 201 returns (None: Twilio's initial one)."""


def created(*, status: str | None = None, delay: float = 0.0) -> Answer:
    """A 201 with a Message resource in ``status``."""
    return Answer(status=201, delay=delay, message_status=status)


def twilio_error(
    http_status: int,
    code: int,
    *,
    message: str = _NUMBER_IN_MESSAGE,
    retry_after: str | None = None,
) -> Answer:
    """An error answer with Twilio's body; the default message repeats a number, as Twilio's do."""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    body = error_answer(http_status, code, message).body
    return Answer(status=http_status, body=body, headers=headers)


def dropped() -> Answer:
    """Take the request, then close the connection without a word (the outcome is unknown)."""
    return Answer(drop=True)


def lost() -> Answer:
    """Close the connection before Twilio took the request (the client cannot tell which)."""
    return Answer(status=503, body={}, drop=True)


@dataclass(frozen=True)
class FaultRates:
    """The shares of message creations (``POST``) answered with a fault, drawn from ``seed``.

    ``server_error`` get a 500 and ``throttled`` a 429 (nothing recorded); ``lost`` are closed
    before Twilio took them (:func:`lost`) and ``dropped`` after (:func:`dropped`: recorded).
    Scripted answers come first; reads of the message list are never faulted.
    """

    server_error: float = 0.0
    throttled: float = 0.0
    lost: float = 0.0
    dropped: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        shares = (self.server_error, self.throttled, self.lost, self.dropped)
        if min(shares) < 0 or sum(shares) > 1:
            raise ValueError("fault rates are shares between 0 and 1 that add up to at most 1")

    def picker(self) -> Callable[[], Answer]:
        """A function drawing the next creation's answer (the simulator's own when no fault)."""
        draw = random.Random(self.seed).random  # noqa: S311 - reproducible faults, not secrets
        faults = (
            (self.server_error, twilio_error(500, 20500, message="Internal Server Error")),
            (self.throttled, twilio_error(429, 20429, message="Too Many Requests")),
            (self.lost, lost()),
            (self.dropped, dropped()),
        )

        def pick() -> Answer:
            point = draw()
            for share, answer in faults:
                if point < share:
                    return answer
                point -= share
            return Answer()

        return pick


class TwilioLikeServer(LoopbackServer):
    """The server; ``async with`` starts it on a free port of 127.0.0.1 in the running loop.

    Requests must authenticate as ``auth_user`` (an API key SID; default the account SID) with
    ``auth_token``. ``latency`` delays every answer; ``record=False`` keeps no requests (the
    simulator, :attr:`simulator`, still keeps the messages it accepted). ``faults`` answers a
    share of message creations with random faults.
    """

    def __init__(
        self,
        *,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        auth_user: str | None = None,
        latency: float = 0.0,
        record: bool = True,
        clock: Clock | None = None,
        faults: FaultRates | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.simulator = SimulatedTwilio(
            account_sid=account_sid,
            auth_token=auth_token,
            clock=clock or SystemClock(),
            api_key_sid=auth_user,
        )
        self._latency = latency
        self._record = record
        self._script: list[Answer] = []
        self._fault = faults.picker() if faults is not None else Answer
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.answered = 0

    @property
    def open_connections(self) -> int:
        """Connections open now (a client that closed its pool leaves none)."""
        return len(self._tasks)

    def script(self, *answers: Answer) -> None:
        """Use these answers for the next requests, in order; then the simulator's own again."""
        self._script.extend(answers)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request = await _read_request(reader)
        if request is None:
            return False
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self._record:
                self.received.append(request)
            scripted = self._script.pop(0) if self._script else self._unscripted(request)
            answer, headers = self._answer(request, scripted)
            await asyncio.sleep(self._latency + scripted.delay)
            if scripted.drop:
                return False
            writer.write(_http_response(answer, headers))
            await writer.drain()
            self.answered += 1
        finally:
            self.in_flight -= 1
        return True

    def _unscripted(self, request: Received) -> Answer:
        return self._fault() if request.method == "POST" else Answer()

    def _answer(
        self, request: Received, scripted: Answer
    ) -> tuple[SimulatedAnswer, Mapping[str, str]]:
        """Twilio's own refusal, else the scripted stand-in, else the simulator's acceptance."""
        authorization = request.headers.get("authorization")
        path, _, query = request.path.partition("?")
        refusal = self.simulator.refusal(request.method, path, authorization, request.form)
        if refusal is not None:
            return refusal, {}
        query_pairs = parse_qsl(query, keep_blank_values=True)
        numbers = self.simulator.numbers_answer(request.method, path, query_pairs, request.form)
        if numbers is not None:  # IncomingPhoneNumbers: the simulator's own
            return numbers, {}
        if request.method == "GET":
            return self.simulator.list_messages(parse_qsl(query, keep_blank_values=True)), {}
        if scripted.status != 201 or scripted.body is not None:
            return SimulatedAnswer(scripted.status, dict(scripted.body or {})), scripted.headers
        return self.simulator.accept(request.form, status=scripted.message_status), scripted.headers


def _http_response(answer: SimulatedAnswer, headers: Mapping[str, str]) -> bytes:
    return json_response(answer.status, answer.body, headers)


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
    raw = await read_request(reader)
    if raw is None:
        return None
    form = tuple(parse_qsl(raw.body.decode("utf-8", "replace"), keep_blank_values=True))
    return Received(raw.method, raw.path, raw.headers, form, time.monotonic())


async def _serve_forever(latency: float, faults: FaultRates | None = None) -> None:
    server = TwilioLikeServer(latency=latency, record=False, faults=faults)
    async with server:
        print(f"PORT {server.base_url.rsplit(':', 1)[1]}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """Serve until killed, with ``--latency`` seconds per request and the faults asked for."""
    parser = argparse.ArgumentParser(description="A Twilio-like Messages API on 127.0.0.1.")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--fail-500", type=float, default=0.0, help="share answered 500")
    parser.add_argument("--fail-429", type=float, default=0.0, help="share answered 429")
    parser.add_argument("--lose", type=float, default=0.0, help="share dropped before taking")
    parser.add_argument("--drop", type=float, default=0.0, help="share dropped after taking")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    args = parser.parse_args()
    shares = (args.fail_500, args.fail_429, args.lose, args.drop)
    try:
        faults = FaultRates(*shares, seed=args.seed) if any(shares) else None
    except ValueError as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.latency, faults))


if __name__ == "__main__":
    main()
