"""``/docs`` and ``/redoc`` that work with no internet: their assets served by the app itself.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so offline they stay blank. The
``fastapi-offline`` package ships the same assets (Swagger UI 5, ReDoc 2) as package data;
:func:`serve_docs_offline` replaces the two pages with ones that load them from the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from walker_channels.exceptions import MissingDependency

Page = Callable[[Request], Awaitable[HTMLResponse]]

ASSETS_PATH = "/docs-assets"
"""Where the assets are served by default."""


def serve_docs_offline(app: FastAPI, *, assets_path: str = ASSETS_PATH) -> None:
    """Serve ``app``'s Swagger UI (``app.docs_url``) and ReDoc (``app.redoc_url``) offline.

    Call it once, after creating the app; a URL set to ``None`` stays off.
    """
    if app.openapi_url is None:
        return  # no OpenAPI document, nothing to show
    directory = _assets()
    pages = {app.docs_url, app.redoc_url} - {None}
    app.router.routes[:] = [
        route
        for route in app.router.routes
        if not (isinstance(route, Route) and route.path in pages)
    ]
    app.mount(assets_path, StaticFiles(directory=directory), name="walker-docs-assets")
    if app.docs_url is not None:
        app.add_route(app.docs_url, _swagger(app, assets_path), include_in_schema=False)
    if app.redoc_url is not None:
        app.add_route(app.redoc_url, _redoc(app, assets_path), include_in_schema=False)


def _assets() -> Path:
    try:
        return Path(str(files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        raise MissingDependency("API docs without internet", "fastapi") from None


def _swagger(app: FastAPI, assets: str) -> Page:
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            swagger_js_url=f"{root}{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    return swagger


def _redoc(app: FastAPI, assets: str) -> Page:
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{assets}/favicon.png",
            with_google_fonts=False,
        )
        # ReDoc's "API docs by Redocly" badge is an image on Redocly's CDN: not fetched.
        page.headers["content-security-policy"] = "img-src 'self' data:"
        return page

    return redoc
