"""An existing Flask app that serves walker-channels through the extension.

``init_app`` registers a blueprint; each process starts one long-lived event loop for the
async core at its first request (so gunicorn ``--preload`` may fork after it);
the host's ``current_principal`` says who calls. Settings come from the environment
(docs/mounting.md lists them); run it with::

    export WALKER_PSEUDONYM_KEY=... TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=...
    export TWILIO_WHATSAPP_FROM=whatsapp:+14155238886 WALKER_PUBLIC_URL=https://your.host
    python examples/flask_app.py
    flask --app examples/flask_app.py run   # the same, with the flask command
"""

from __future__ import annotations

import os

import flask

from walker_channels.agents import CallableRunner
from walker_channels.app import Services, Settings, StartHook, build_services
from walker_channels.models import AgentReply, AgentRequest, Channel, Principal
from walker_channels.phones import phone_address
from walker_channels.ports import MessageTransport
from walker_channels.sql import SqlStores
from walker_channels_flask import WalkerChannels

TENANT = "acme"

# Stand-in for your real auth (Flask-Login, sessions, JWTs): bearer token -> caller.
API_TOKENS = {
    "admin-token": Principal(user_id="admin", is_superuser=True),
    "acme-token": Principal(user_id="ann", tenant_ids=frozenset({TENANT})),
}


def current_principal() -> Principal | None:
    """Who calls, read from the request as your auth decides (``None``: nobody signed in)."""
    scheme, _, token = flask.request.headers.get("Authorization", "").partition(" ")
    return API_TOKENS.get(token) if scheme.lower() == "bearer" else None


def opening_hours_agent(request: AgentRequest) -> AgentReply:
    """Your agent; a plain function works too (it runs in a worker thread)."""
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
) -> flask.Flask:
    """The host app: walker-channels' blueprint plus the host's own views."""
    settings = settings or Settings()
    number = settings.twilio_whatsapp_from
    services = build_services(
        settings,
        agent=CallableRunner(opening_hours_agent, timeout=10),
        whatsapp_transport=whatsapp_transport,
        on_start=[own_number(number)] if number else [],
    )
    app = flask.Flask(__name__)
    WalkerChannels(services, principal=current_principal).init_app(app)

    @app.get("/health")
    def health() -> dict[str, list[str]]:
        """A host view using the running services."""
        running = WalkerChannels.services_of(flask.current_app)
        channels = [channel.value for channel in running.transports]
        return {"channels": [*channels, "email"] if running.email else channels}

    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
