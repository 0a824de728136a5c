"""The demo's FastAPI app: the library's router on the demo's services, plus its stand-ins.

The services and stand-ins come from :func:`walker_channels_fastapi.demo.compose.build_demo`; this
module only serves them: :func:`~walker_channels_fastapi.create_router` with a bearer-token
principal, the simulated Twilio Messages API, and the demo's outbox reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from walker_channels.models import Principal
from walker_channels.ports import Clock
from walker_channels.web.console import SESSION_COOKIE
from walker_channels_fastapi.demo.compose import Demo, build_demo
from walker_channels_fastapi.demo.config import DemoPlan
from walker_channels_fastapi.demo.routes import outbox_router, simulator_router
from walker_channels_fastapi.offline_docs import serve_docs_offline
from walker_channels_fastapi.router import create_router


def create_demo_app(plan: DemoPlan, *, clock: Clock | None = None) -> FastAPI:
    """The demo's FastAPI app (the router's lifespan starts and closes the services)."""
    demo = build_demo(plan, clock=clock)
    principal = bearer_principal(demo)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if demo.reporter is not None:
                await demo.reporter.aclose()

    app = FastAPI(
        lifespan=lifespan,
        title="walker-channels demo",
        description="Every walker-channels endpoint, on a local SQLite file. "
        "Authorize with the demo token printed at start-up.",
    )
    serve_docs_offline(app)
    app.include_router(create_router(demo.services, principal=principal))
    if demo.simulator is not None and demo.reporter is not None:
        app.include_router(simulator_router(demo.simulator, demo.reporter))
    app.include_router(outbox_router(principal, simulator=demo.simulator, emails=demo.emails))
    return app


def bearer_principal(demo: Demo) -> Callable[..., Principal | None]:
    """A FastAPI dependency: the demo token makes the caller the demo superuser.

    The token comes as ``Authorization: Bearer <token>``, or in the reviewer console's
    session cookie (its sign-in form keeps it there).
    """
    scheme = HTTPBearer(auto_error=False, description="The demo token printed at start-up")
    session = APIKeyCookie(
        name=SESSION_COOKIE, auto_error=False, description="The console's session cookie"
    )

    def principal(
        credentials: HTTPAuthorizationCredentials | None, cookie: str | None
    ) -> Principal | None:
        if credentials is not None:
            return demo.caller(credentials.credentials)
        return demo.caller(cookie)

    # Set as objects, not strings: FastAPI cannot resolve the closure's names.
    principal.__annotations__["credentials"] = Annotated[
        HTTPAuthorizationCredentials | None, Depends(scheme)
    ]
    principal.__annotations__["cookie"] = Annotated[str | None, Depends(session)]
    return principal
