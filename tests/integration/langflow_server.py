"""A Langflow-like HTTP server on 127.0.0.1 for the runner's integration tests.

It speaks ``POST /api/v1/run/{flow}`` the way Langflow does (reference §1): the ``x-api-key``
header is checked first (403 ``Invalid or missing API key``), then the flow name picks the
behaviour. A flow ``X`` with a fixture ``tests/fixtures/langflow/run_X.json`` answers with that
recorded shape; the other names are scripted below. Every request is recorded, so tests check
what reached the server (key, session id, body) on the server side.

The response fixtures were written from the shapes Langflow documents: ``run_recent`` from
``docs/API-Reference/api-flows-run.mdx``, ``run_quickstart`` from the Quickstart (text in four
places), ``run_legacy_data_text`` from 1.0/1.1-era responses (Message-as-Data only).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "langflow"
SLOW_SECONDS = 1.0
"""How long the ``slow`` flow takes: far above the tests' timeouts, short enough to stop fast."""


def fixture(name: str) -> Any:
    """A recorded Langflow body from ``tests/fixtures/langflow``."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def chat_response(text: str, session_id: str | None) -> dict[str, Any]:
    """A current-shape run response whose chat output says ``text``."""
    body: dict[str, Any] = fixture("run_recent")
    body["session_id"] = session_id
    body["outputs"][0]["outputs"][0]["results"]["message"]["text"] = text
    return body


@dataclass(frozen=True)
class SeenRequest:
    """What one request looked like when it reached the server."""

    flow: str
    api_key: str | None
    query_api_key: str | None
    body: dict[str, Any]


@dataclass
class LangflowServer:
    """The server, run by uvicorn in a daemon thread; use as a context manager."""

    api_key: str
    requests: list[SeenRequest] = field(default_factory=list)
    _calls: Counter[tuple[str, object]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _port: int = 0
    _socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The base URL, as ``LANGFLOW_BASE_URL`` would hold it."""
        return f"http://127.0.0.1:{self._port}"

    def seen(self, flow: str) -> list[SeenRequest]:
        """The requests that asked for ``flow``, in order."""
        with self._lock:
            return [seen for seen in self.requests if seen.flow == flow]

    def __enter__(self) -> LangflowServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        self._port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/api/v1/run/{flow:path}", self._run, methods=["POST"])])
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the loopback Langflow server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()

    async def _run(self, request: Request) -> Response:
        flow = request.path_params["flow"]
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        seen = SeenRequest(
            flow=flow,
            api_key=request.headers.get("x-api-key"),
            query_api_key=request.query_params.get("x-api-key"),
            body=body,
        )
        with self._lock:
            self.requests.append(seen)
            # Counted per flow and session, so each test's session starts at call 1.
            self._calls[flow, body.get("session_id")] += 1
            call = self._calls[flow, body.get("session_id")]
        if seen.api_key != self.api_key:
            return JSONResponse(fixture("error_403_invalid_key"), status_code=403)
        return await self._answer(flow, body, call)

    async def _answer(self, flow: str, body: dict[str, Any], call: int) -> Response:
        text = str(body.get("input_value") or "")
        session = body.get("session_id")
        match flow:
            case "echo":
                return JSONResponse(chat_response(f"echo: {text}", session))
            case "verbatim":  # replies with the input itself, e.g. a JSON reply to test
                return JSONResponse(chat_response(text, session))
            case "not-owned":
                return JSONResponse(fixture("error_403_not_owned"), status_code=403)
            case "leaky":  # a server that echoes the key it was sent in its error
                detail = f"Invalid API key {self.api_key}"
                return JSONResponse({"detail": detail}, status_code=403)
            case "crash":
                return JSONResponse(fixture("error_500_json_detail"), status_code=500)
            case "bad-input":
                return JSONResponse({"detail": "Invalid input value"}, status_code=400)
            case "slow":
                await asyncio.sleep(SLOW_SECONDS)
                return JSONResponse(chat_response("too late", session))
            case "moved":  # e.g. http:// in the settings where Langflow serves https://
                return Response(status_code=307, headers={"location": "https://langflow.example/"})
            case "garbage":
                return PlainTextResponse("<html>upstream says no</html>", media_type="text/html")
            case "json-list":
                return JSONResponse([1, 2, 3])
            case "flaky":  # an upstream model outage that clears after one try
                if call == 1:
                    return JSONResponse({"detail": "upstream model unavailable"}, status_code=502)
                return JSONResponse(chat_response(f"recovered: {text}", session))
            case "rate-limited":
                return JSONResponse({"detail": "Rate limit reached"}, status_code=429)
            case "gateway-timeout":
                return JSONResponse({"detail": "Upstream timed out"}, status_code=504)
        path = FIXTURES / f"run_{flow}.json"
        if path.is_file():
            return JSONResponse(fixture(f"run_{flow}"))
        return JSONResponse(fixture("error_404_flow_not_found"), status_code=404)
