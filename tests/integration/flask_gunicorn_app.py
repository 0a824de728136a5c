"""The Flask host app of the gunicorn test: walker-channels with an agent that takes two
seconds, its settings (Twilio, database, public URL) from the environment.

    gunicorn --preload --workers 1 --worker-class sync "flask_gunicorn_app:create_app()"
"""

from __future__ import annotations

import anyio
import flask

from walker_channels.agents import CallableRunner
from walker_channels.app import Services, Settings, build_services
from walker_channels.models import AgentReply, AgentRequest, Channel
from walker_channels.phones import phone_address
from walker_channels.sql import SqlStores
from walker_channels_flask import WalkerChannels

AGENT_SECONDS = 2.0
REPLY = "Thought it over: yes."
TENANT = "acme"


async def slow_agent(request: AgentRequest) -> AgentReply:
    """An agent that thinks for :data:`AGENT_SECONDS` and is sure of its answer."""
    await anyio.sleep(AGENT_SECONDS)
    return AgentReply(text=REPLY, confidence=0.95, agent_id="slow")


def create_app() -> flask.Flask:
    """The app; nothing starts until a worker's first request."""
    settings = Settings()
    number = settings.twilio_whatsapp_from or ""

    async def own_number(services: Services) -> None:
        assert isinstance(services.stores, SqlStores)
        await services.stores.tenants.add_number(TENANT, phone_address(number, Channel.WHATSAPP))

    services = build_services(
        settings, agent=CallableRunner(slow_agent, timeout=10), on_start=[own_number]
    )
    app = flask.Flask(__name__)
    WalkerChannels(services).init_app(app)
    return app
