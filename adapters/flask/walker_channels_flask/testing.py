"""An httpx transport for testing a Flask host app: each request returns once the
after-response work it started has finished, as Starlette's ``TestClient`` does for FastAPI.

    client = httpx.Client(transport=SettledTransport(app), base_url="https://host.example")
"""

from __future__ import annotations

import flask
import httpx

from walker_channels_flask.extension import WalkerChannels


class SettledTransport(httpx.BaseTransport):
    """``httpx.WSGITransport`` on ``app``, then a wait (up to ``timeout``) for its work."""

    def __init__(self, app: flask.Flask, *, timeout: float = 30.0) -> None:
        self._app = app
        self._wsgi = httpx.WSGITransport(app=app)
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` through the app; return after its after-response work ran."""
        response = self._wsgi.handle_request(request)
        content = response.read()  # closing the WSGI response starts its after-response work
        if not WalkerChannels.wait_idle(self._app, self._timeout):
            raise TimeoutError(f"after-response work still running after {self._timeout:g} s")
        return httpx.Response(response.status_code, headers=response.headers, content=content)
