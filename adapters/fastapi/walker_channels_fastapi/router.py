"""The FastAPI router: one route per walker-channels endpoint, translating and nothing else.

A view turns the Starlette request into a :class:`~walker_channels.web.NeutralRequest`, asks
:class:`~walker_channels.web.HttpApi` to answer it, and turns the answer back, handing any
after-response work to FastAPI's ``BackgroundTasks``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from walker_channels.app import Services
from walker_channels.exceptions import ConfigurationError, WalkerError
from walker_channels.models import Principal
from walker_channels.web import (
    Access,
    Endpoint,
    ErrorBody,
    Headers,
    HttpApi,
    MultiDict,
    NeutralRequest,
    NeutralResponse,
    read_limited,
)
from walker_channels_fastapi._openapi import operation_extra

STATE_KEY = "walker_channels"

PrincipalDependency = Callable[..., Any]
"""A FastAPI dependency (it may have dependencies of its own) giving ``Principal | None``."""


def create_router(
    services: Services,
    *,
    principal: PrincipalDependency | None = None,
    prefix: str = "",
    manage_lifespan: bool = True,
) -> APIRouter:
    """A router serving every walker-channels endpoint, to ``app.include_router``.

    ``principal`` is the host's dependency saying who calls (``None``: nobody is signed in,
    so only the Twilio endpoints work). With ``manage_lifespan`` the router's lifespan starts
    and closes ``services`` and exposes them to :data:`ServicesDep`.
    """
    api = HttpApi.from_services(services, prefix=prefix)
    lifespan = _lifespan(services, manage=manage_lifespan)
    router = APIRouter(prefix=prefix, lifespan=lifespan)
    for endpoint in api.endpoints:
        router.add_api_route(
            endpoint.path,
            _view(api, endpoint, principal),
            methods=[endpoint.method],
            name=endpoint.name,
            operation_id=endpoint.name,
            summary=endpoint.summary,
            tags=[endpoint.tag],
            response_model=endpoint.response,
            status_code=endpoint.status_code,
            responses=_responses(endpoint),
            openapi_extra=operation_extra(endpoint),
            response_class=JSONResponse if endpoint.response is not None else Response,
        )
    for page in api.pages:  # the reviewer console: HTML, not part of the API's documentation
        router.add_api_route(
            page.path,
            _view(api, page, principal),
            methods=[page.method],
            name=page.name,
            include_in_schema=False,
            response_class=Response,
        )
    return router


def get_services(request: Request) -> Services:
    """The services the router's lifespan started (for the host's own endpoints)."""
    services = getattr(request.state, STATE_KEY, None)
    if not isinstance(services, Services):
        raise ConfigurationError(
            "walker-channels services are not started: include the router from create_router "
            "with app.include_router so its lifespan runs"
        )
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
"""The running :class:`~walker_channels.web.Services`, for endpoints of the host application."""


def _view(
    api: HttpApi, endpoint: Endpoint, principal: PrincipalDependency | None
) -> Callable[..., Any]:
    # Twilio's endpoints never ask the host who calls (its auth might refuse Twilio outright),
    # and take no FastAPI dependency at all: solving even empty ones costs a webhook ~60 µs.
    if principal is None or endpoint.access is Access.PROVIDER:

        async def anonymous(request: Request) -> Response:
            return await _answer(api, endpoint, request, None, None)

        anonymous.__name__ = endpoint.name
        return anonymous

    async def view(request: Request, background: BackgroundTasks, caller: Any) -> Response:
        return await _answer(api, endpoint, request, caller, background)

    # Set as an object, not a string: FastAPI cannot resolve the closure's ``principal`` by name.
    view.__annotations__["caller"] = Annotated[Principal | None, Depends(principal)]
    view.__name__ = endpoint.name
    return view


async def _answer(
    api: HttpApi,
    endpoint: Endpoint,
    request: Request,
    caller: Principal | None,
    background: BackgroundTasks | None,
) -> Response:
    try:
        neutral = await to_neutral(request, api)
    except WalkerError as exc:
        return to_response(api.refuse(endpoint, exc), background)
    return to_response(await api.handle(endpoint, neutral, caller), background)


async def to_neutral(request: Request, api: HttpApi) -> NeutralRequest:
    """The Starlette request as a neutral one, its body read within the size limit."""
    headers = Headers(request.headers.items())
    api.check_headers(headers)
    body = await read_limited(request.stream(), api.max_body_bytes)
    return NeutralRequest(
        method=request.method,
        url=str(request.url),
        headers=headers,
        body=body,
        query=MultiDict(request.query_params.multi_items()),
        path_params={name: str(value) for name, value in request.path_params.items()},
    )


def to_response(response: NeutralResponse, background: BackgroundTasks | None = None) -> Response:
    """The neutral response as a Starlette one; after-response work goes to ``background``
    (without one, to tasks of the response's own)."""
    if response.after:
        background = background if background is not None else BackgroundTasks()
        for work in response.after:
            background.add_task(work)
    answer = Response(
        content=response.body,
        status_code=response.status,
        headers=dict(response.headers),
        background=background,
    )
    for cookie in response.cookies:
        answer.headers.append("set-cookie", cookie)
    return answer


def _lifespan(services: Services, *, manage: bool) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        try:
            if manage:
                await services.start()
            yield {STATE_KEY: services}
        finally:
            if manage:
                await services.close()

    return lifespan


def _responses(endpoint: Endpoint) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorBody} for status in endpoint.error_statuses
    }
    if endpoint.response is None:
        responses[endpoint.status_code] = {
            "description": "Empty TwiML",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        }
    return responses
