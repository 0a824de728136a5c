"""The soak test's host app: walker-channels' FastAPI router on services built from the
environment, with the echo agent, and the tenant given its number at start (as the demo does).

Served by uvicorn in a process of its own::

    uvicorn --factory --app-dir tests/soak soak_host:create_app
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Header

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, StartHook, build_services
from walker_channels.models import Channel, Principal
from walker_channels.phones import phone_address
from walker_channels.sql import SqlStores
from walker_channels_fastapi import create_router

TENANT = "soak"
ADMIN_TOKEN = "soak-admin-token"
ADMIN = Principal(user_id="soak-admin", is_superuser=True)


def current_principal(authorization: Annotated[str | None, Header()] = None) -> Principal | None:
    """The superuser for the soak test's bearer token, else nobody."""
    return ADMIN if authorization == f"Bearer {ADMIN_TOKEN}" else None


def own_number(number: str) -> StartHook:
    """A start hook giving the tenant its WhatsApp number (idempotent, so every process runs it)."""

    async def hook(services: Services) -> None:
        if not isinstance(services.stores, SqlStores):
            raise TypeError("the soak host keeps its tenants in the SQL store")
        await services.stores.tenants.add_number(TENANT, phone_address(number, Channel.WHATSAPP))

    return hook


def soak_services(settings: Settings) -> Services:
    """The services every soak process runs: the echo agent, sure of itself (never escalated)."""
    number = settings.twilio_whatsapp_from
    return build_services(
        settings,
        agent=echo_agent(confidence=0.9),
        on_start=[own_number(number)] if number else [],
    )


def create_app() -> FastAPI:
    """The host app (an application factory, for ``uvicorn --factory``)."""
    app = FastAPI(title="walker-channels soak host")
    app.include_router(create_router(soak_services(Settings()), principal=current_principal))
    return app
