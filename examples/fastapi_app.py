"""An existing FastAPI backend that mounts walker-channels behind its own auth.

The host decides who calls (``current_principal``); the library decides what that caller may
do. Settings come from the environment (docs/mounting.md lists them); run it with::

    export WALKER_PSEUDONYM_KEY=... TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=...
    export TWILIO_WHATSAPP_FROM=whatsapp:+14155238886 WALKER_PUBLIC_URL=https://your.host
    python examples/fastapi_app.py
    uvicorn --factory --app-dir examples fastapi_app:create_app   # the same, with uvicorn
"""

from __future__ import annotations

import os
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Header

from walker_channels.agents import CallableRunner
from walker_channels.app import Services, Settings, StartHook, build_services
from walker_channels.models import AgentReply, AgentRequest, Channel, Principal
from walker_channels.phones import phone_address
from walker_channels.ports import MessageTransport
from walker_channels.sql import SqlStores
from walker_channels_fastapi import ServicesDep, create_router

TENANT = "acme"

# Stand-in for your real auth (sessions, JWTs, an API gateway): bearer token -> caller.
API_TOKENS = {
    "admin-token": Principal(user_id="admin", is_superuser=True),
    "acme-token": Principal(user_id="ann", tenant_ids=frozenset({TENANT})),
}


def current_principal(authorization: Annotated[str | None, Header()] = None) -> Principal | None:
    """Who calls, as your auth decides (``None``: nobody signed in)."""
    scheme, _, token = (authorization or "").partition(" ")
    return API_TOKENS.get(token) if scheme.lower() == "bearer" else None


async def opening_hours_agent(request: AgentRequest) -> AgentReply:
    """Your agent (an LLM call, usually). Unsure answers go to human review."""
    if "hours" in request.text.lower():
        text = "We are open 9:00-17:00, Monday to Friday."
        return AgentReply(text=text, confidence=0.95, agent_id="hours")
    return AgentReply(text="Let me ask a colleague.", confidence=0.3, agent_id="hours")


def own_number(number: str) -> StartHook:
    """A start hook: messages to ``number`` belong to the tenant (your admin tooling would
    manage this)."""

    async def hook(services: Services) -> None:
        if not isinstance(services.stores, SqlStores):
            raise TypeError("this example keeps its tenants in the SQL store")
        whatsapp = phone_address(number, Channel.WHATSAPP)  # "+E164" alone would be SMS
        await services.stores.tenants.add_number(TENANT, whatsapp)

    return hook


def create_app(
    settings: Settings | None = None, *, whatsapp_transport: MessageTransport | None = None
) -> FastAPI:
    """The host app: walker-channels' router plus the host's own endpoints."""
    settings = settings or Settings()
    number = settings.twilio_whatsapp_from
    services = build_services(
        settings,
        agent=CallableRunner(opening_hours_agent, timeout=10),
        whatsapp_transport=whatsapp_transport,
        on_start=[own_number(number)] if number else [],
    )
    app = FastAPI(title="Acme backend")
    app.include_router(create_router(services, principal=current_principal))

    @app.get("/health")
    async def health(services: ServicesDep) -> dict[str, list[str]]:
        """A host endpoint using the running services."""
        channels = [channel.value for channel in services.transports]
        return {"channels": channels}

    return app


if __name__ == "__main__":
    uvicorn.run(create_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
