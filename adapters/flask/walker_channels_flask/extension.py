"""The Flask extension: a blueprint of every walker-channels endpoint, translating only.

The core is async. Its engines and HTTP clients belong to the event loop that made them, so
the extension runs the core on one long-lived loop (an anyio blocking portal started in
``init_app``) and every view hands its request to that loop: never a loop per request.
"""

from __future__ import annotations

import atexit
import re
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import flask
from anyio.from_thread import BlockingPortal, start_blocking_portal

from walker_channels.app import Services
from walker_channels.exceptions import WalkerError
from walker_channels.models import Principal
from walker_channels.web import (
    Access,
    AfterResponse,
    Endpoint,
    Headers,
    HttpApi,
    MultiDict,
    NeutralRequest,
    NeutralResponse,
    read_limited_sync,
)

EXTENSION_KEY = "walker_channels"
T = TypeVar("T")

PrincipalProvider = Callable[[], Principal | None]
"""Called inside the request context; says who calls (``None``: nobody signed in)."""

_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass
class _State:
    api: HttpApi
    services: Services
    portal: BlockingPortal
    principal: PrincipalProvider | None
    resources: ExitStack


class WalkerChannels:
    """Serve walker-channels from a Flask app: ``WalkerChannels(services).init_app(app)``.

    ``principal`` is the host's function saying who calls, ``prefix`` is put before every
    path. Per-app state lives in ``app.extensions["walker_channels"]``.
    """

    def __init__(
        self,
        services: Services,
        *,
        principal: PrincipalProvider | None = None,
        prefix: str = "",
        app: flask.Flask | None = None,
    ) -> None:
        self.services = services
        self.principal = principal
        self.prefix = prefix
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        """Start the event loop and the services, and register the blueprint on ``app``."""
        resources = ExitStack()
        portal = resources.enter_context(start_blocking_portal("asyncio"))
        # Registered after the portal, so it runs first: the services close on their own loop.
        resources.callback(portal.call, self.services.close)
        try:
            portal.call(self.services.start)
        except BaseException:
            resources.close()
            raise
        api = HttpApi.from_services(self.services)
        app.extensions[EXTENSION_KEY] = _State(
            api, self.services, portal, self.principal, resources
        )
        app.register_blueprint(_blueprint(api, self.prefix))
        atexit.register(resources.close)

    @staticmethod
    def shutdown(app: flask.Flask) -> None:
        """Close the services and stop the event loop of ``app`` (also done at exit)."""
        state: _State = app.extensions[EXTENSION_KEY]
        state.resources.close()

    @staticmethod
    def services_of(app: flask.Flask) -> Services:
        """The running services of ``app``, for the host's own views."""
        state: _State = app.extensions[EXTENSION_KEY]
        return state.services

    @staticmethod
    def call(app: flask.Flask, func: Callable[..., Awaitable[T]], *args: object) -> T:
        """Run ``func(*args)`` on the app's event loop (where the services live) and wait."""
        state: _State = app.extensions[EXTENSION_KEY]
        return state.portal.call(func, *args)


def _blueprint(api: HttpApi, prefix: str) -> flask.Blueprint:
    blueprint = flask.Blueprint(EXTENSION_KEY, __name__, url_prefix=prefix or None)
    for endpoint in api.endpoints:
        blueprint.add_url_rule(
            _PATH_PARAM.sub(r"<\1>", endpoint.path),
            endpoint=endpoint.name,
            view_func=partial(_view, endpoint),
            methods=[endpoint.method],
        )
    return blueprint


def _view(endpoint: Endpoint, **path_params: str) -> flask.Response:
    state: _State = flask.current_app.extensions[EXTENSION_KEY]
    try:
        caller = _caller(state, endpoint)
        neutral = to_neutral(flask.request, state.api, path_params)
    except WalkerError as exc:
        return to_response(state.api.refuse(endpoint, exc), state.portal)
    answer = state.portal.call(state.api.handle, endpoint, neutral, caller)
    return to_response(answer, state.portal)


def _caller(state: _State, endpoint: Endpoint) -> Principal | None:
    # Twilio's endpoints never ask the host who calls: its auth might refuse Twilio outright.
    if state.principal is None or endpoint.access is Access.TWILIO:
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


def to_response(response: NeutralResponse, portal: BlockingPortal) -> flask.Response:
    """The neutral response as a Flask one; after-response work runs on the loop at close."""
    answer = flask.Response(
        response=response.body, status=response.status, headers=dict(response.headers)
    )
    for work in response.after:
        answer.call_on_close(partial(_run_after, portal, work))
    return answer


def _run_after(portal: BlockingPortal, work: AfterResponse) -> None:
    portal.call(work)
