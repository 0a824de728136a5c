"""The Flask extension: a blueprint of every walker-channels endpoint, translating only.

The core is async. Its engines and HTTP clients belong to the event loop that made them, so
the extension runs the core on one long-lived loop per process (an anyio blocking portal,
:class:`~walker_channels_flask.loop.ProcessLoop`), started at the process's first request so
that pre-forking servers work, and every view hands its request to that loop: never a loop
per request. After-response work (the agent's run) is started on the loop when the response
closes and not waited for, so the WSGI worker goes on to its next request.
"""

from __future__ import annotations

import atexit
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import flask

from walker_channels.app import Services
from walker_channels.exceptions import WalkerError
from walker_channels.models import Principal
from walker_channels.web import (
    Access,
    Endpoint,
    Headers,
    HttpApi,
    MultiDict,
    NeutralRequest,
    NeutralResponse,
    read_limited_sync,
)
from walker_channels_flask.loop import ProcessLoop

EXTENSION_KEY = "walker_channels"
T = TypeVar("T")
DRAIN_TIMEOUT = 20.0
"""Seconds :meth:`WalkerChannels.shutdown` waits for after-response work still running."""

PrincipalProvider = Callable[[], Principal | None]
"""Called inside the request context; says who calls (``None``: nobody signed in)."""

_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass
class _State:
    api: HttpApi
    services: Services
    loop: ProcessLoop
    principal: PrincipalProvider | None


class WalkerChannels:
    """Serve walker-channels from a Flask app: ``WalkerChannels(services).init_app(app)``.

    ``principal`` is the host's function saying who calls, ``prefix`` is put before every
    path. Per-app state lives in ``app.extensions["walker_channels"]``. ``drain_timeout``
    bounds how long shutdown waits for after-response work still running.
    """

    def __init__(
        self,
        services: Services,
        *,
        principal: PrincipalProvider | None = None,
        prefix: str = "",
        app: flask.Flask | None = None,
        drain_timeout: float = DRAIN_TIMEOUT,
    ) -> None:
        self.services = services
        self.principal = principal
        self.prefix = prefix
        self.drain_timeout = drain_timeout
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        """Register the blueprint on ``app``; the event loop and the services start in each
        process at its first request (or :meth:`call`), so a server may fork after this."""
        loop = ProcessLoop(self.services, drain_timeout=self.drain_timeout)
        api = HttpApi.from_services(self.services, prefix=self.prefix)
        app.extensions[EXTENSION_KEY] = _State(api, self.services, loop, self.principal)
        app.register_blueprint(_blueprint(api, self.prefix))
        atexit.register(loop.close)

    @staticmethod
    def shutdown(app: flask.Flask) -> None:
        """Finish the after-response work, close the services and stop the event loop of
        ``app`` in this process (also done at exit)."""
        state: _State = app.extensions[EXTENSION_KEY]
        state.loop.close()

    @staticmethod
    def wait_idle(app: flask.Flask, timeout: float | None = None) -> bool:
        """Wait until the after-response work started so far has finished (tests, a graceful
        stop); ``False`` if ``timeout`` ran out first."""
        state: _State = app.extensions[EXTENSION_KEY]
        return state.loop.wait_idle(timeout)

    @staticmethod
    def webhook_views(app: flask.Flask) -> list[Callable[..., object]]:
        """The view functions of the Twilio webhooks, which carry a signature instead of a
        CSRF token: ``for view in WalkerChannels.webhook_views(app): csrf.exempt(view)``."""
        state: _State = app.extensions[EXTENSION_KEY]
        names = [e.name for e in state.api.endpoints if e.access is Access.PROVIDER]
        return [app.view_functions[f"{EXTENSION_KEY}.{name}"] for name in names]

    @staticmethod
    def services_of(app: flask.Flask) -> Services:
        """The running services of ``app``, for the host's own views."""
        state: _State = app.extensions[EXTENSION_KEY]
        return state.services

    @staticmethod
    def call(app: flask.Flask, func: Callable[..., Awaitable[T]], *args: object) -> T:
        """Run ``func(*args)`` on the app's event loop (where the services live) and wait."""
        state: _State = app.extensions[EXTENSION_KEY]
        return state.loop.call(func, *args)


def _blueprint(api: HttpApi, prefix: str) -> flask.Blueprint:
    blueprint = flask.Blueprint(EXTENSION_KEY, __name__, url_prefix=prefix or None)
    for endpoint in (*api.endpoints, *api.pages):
        blueprint.add_url_rule(
            _PATH_PARAM.sub(r"<\1>", endpoint.path),
            endpoint=endpoint.name,
            view_func=_named_view(endpoint),
            methods=[endpoint.method],
        )
    return blueprint


def _named_view(endpoint: Endpoint) -> Callable[..., flask.Response]:
    # A function named after the endpoint, not a partial: extensions such as Flask-WTF's
    # CSRFProtect identify views by module and name.
    view = partial(_view, endpoint)

    def named(**path_params: str) -> flask.Response:
        return view(**path_params)

    named.__name__ = named.__qualname__ = endpoint.name
    return named


def _view(endpoint: Endpoint, **path_params: str) -> flask.Response:
    state: _State = flask.current_app.extensions[EXTENSION_KEY]
    try:
        caller = _caller(state, endpoint)
        neutral = to_neutral(flask.request, state.api, path_params)
    except WalkerError as exc:
        return to_response(state.api.refuse(endpoint, exc), state.loop)
    try:
        portal = state.loop.portal()
    except Exception as exc:  # the services could not start in this process: say why, as JSON
        return to_response(state.api.refuse(endpoint, exc), state.loop)
    answer = portal.call(state.api.handle, endpoint, neutral, caller)
    return to_response(answer, state.loop)


def _caller(state: _State, endpoint: Endpoint) -> Principal | None:
    # Twilio's endpoints never ask the host who calls: its auth might refuse Twilio outright.
    if state.principal is None or endpoint.access is Access.PROVIDER:
        return None
    return state.principal()


def to_neutral(request: flask.Request, api: HttpApi, path_params: dict[str, str]) -> NeutralRequest:
    """The Flask request as a neutral one, its body read within the size limit."""
    headers = Headers(request.headers.items())
    api.check_headers(headers)
    body = read_limited_sync(request.stream.read, api.max_body_bytes)
    return NeutralRequest(
        method=request.method,
        url=request.url,
        headers=headers,
        body=body,
        query=MultiDict(request.args.items(multi=True)),
        path_params=path_params,
    )


def to_response(response: NeutralResponse, loop: ProcessLoop) -> flask.Response:
    """The neutral response as a Flask one; after-response work starts on the loop at close
    (and is not waited for)."""
    answer = flask.Response(
        response=response.body, status=response.status, headers=dict(response.headers)
    )
    for cookie in response.cookies:
        answer.headers.add("Set-Cookie", cookie)
    for work in response.after:
        answer.call_on_close(partial(loop.spawn, work))
    return answer
