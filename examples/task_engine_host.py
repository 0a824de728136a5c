"""What the two task-engine examples share: the host's agent, its web app and its workers.

``celery_app.py`` and ``taskiq_app.py`` differ only in the engine. Both read the usual
settings from the environment (``TWILIO_*``, ``WALKER_DATABASE_URL``, ``WALKER_PUBLIC_URL``,
``WALKER_PSEUDONYM_KEY``; docs/mounting.md lists them), answer with the echo agent unless
``LANGFLOW_BASE_URL`` and ``LANGFLOW_FLOW_ID`` are set, and give ``TWILIO_WHATSAPP_FROM`` to
the tenant ``acme`` when the web process starts, so they run without any account.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, StartHook, build_services
from walker_channels.models import Channel
from walker_channels.phones import phone_address
from walker_channels.ports import AgentRunner, Dispatcher
from walker_channels.sql import SqlStores
from walker_channels_fastapi import create_router

TENANT = "acme"

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def agent(settings: Settings) -> AgentRunner | None:
    """The echo agent, unless a Langflow flow is configured (``None``: the builder makes it)."""
    return None if settings.langflow_config() is not None else echo_agent()


def worker_services() -> Services:
    """A worker's services: the same settings, stores and agent as the web process."""
    settings = Settings()
    return build_services(settings, agent=agent(settings))


def own_number(number: str) -> StartHook:
    """A start hook: messages to ``number`` belong to the tenant."""

    async def hook(services: Services) -> None:
        if not isinstance(services.stores, SqlStores):
            raise TypeError("this example keeps its tenants in the SQL store")
        whatsapp = phone_address(number, Channel.WHATSAPP)  # "+E164" alone would be SMS
        await services.stores.tenants.add_number(TENANT, whatsapp)

    return hook


def web_app(dispatcher: Dispatcher, *, lifespan: Lifespan | None = None) -> FastAPI:
    """The web process: it verifies and accepts webhooks and hands each message to the engine.

    It never answers a message itself: the dispatcher sends every one to the workers, and its
    sweeper is off (the workers' sweepers finish what a lost task left behind).
    """
    settings = Settings(walker_sweep_interval=0)
    number = settings.twilio_whatsapp_from
    services = build_services(
        settings,
        agent=agent(settings),
        dispatcher=dispatcher,
        on_start=[own_number(number)] if number else [],
    )
    app = FastAPI(title="Acme backend", lifespan=lifespan)
    app.include_router(create_router(services))
    return app
