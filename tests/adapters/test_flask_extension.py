"""What only the Flask extension has: one long-lived event loop, app state, a prefix, shutdown."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import flask
import httpx
import pytest
from web_harness import (
    AUTH_TOKEN,
    BASE_URL,
    NUMBER_A,
    WEBHOOK,
    build_test_services,
    inbound_form,
    new_sid,
)

from walker_channels.agents import CallableRunner
from walker_channels.app import Services
from walker_channels.models import AgentRequest
from walker_channels.testing import TwilioSigner
from walker_channels.web import admin_scope
from walker_channels_flask import EXTENSION_KEY, WalkerChannels


@pytest.fixture
def services(tmp_path: Path) -> Services:
    """Fresh services on a SQLite file."""
    return build_test_services(tmp_path / "walker.db")[0]


def post_inbound(client: httpx.Client, path: str = WEBHOOK) -> httpx.Response:
    """POST a signed inbound message to ``path``."""
    headers, body = TwilioSigner(AUTH_TOKEN).form_request(
        BASE_URL + path, inbound_form("hi", sid=new_sid(), to=NUMBER_A)
    )
    return client.post(path, content=body, headers=headers)


def test_every_request_runs_on_one_long_lived_event_loop(tmp_path: Path) -> None:
    loops: set[int] = set()
    threads: set[int] = set()

    async def agent(request: AgentRequest) -> str:
        loops.add(id(asyncio.get_running_loop()))
        threads.add(threading.get_ident())
        return "noted"

    services = build_test_services(tmp_path / "walker.db", agent=CallableRunner(agent))[0]
    app = flask.Flask(__name__)
    WalkerChannels(services).init_app(app)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL) as client:
            for _ in range(3):
                assert post_inbound(client).status_code == 200
    finally:
        WalkerChannels.shutdown(app)

    assert len(loops) == 1
    assert threads != {threading.get_ident()}


def test_state_lives_in_app_extensions_and_is_closed_at_shutdown(services: Services) -> None:
    app = flask.Flask(__name__)
    extension = WalkerChannels(services, prefix="/walker")
    extension.init_app(app)

    assert EXTENSION_KEY in app.extensions
    assert not hasattr(extension, "app")
    assert WalkerChannels.services_of(app) is services
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL) as client:
        assert post_inbound(client, "/walker" + WEBHOOK).status_code == 200
        assert client.post(WEBHOOK).status_code == 404

    WalkerChannels.shutdown(app)
    WalkerChannels.shutdown(app)  # a second shutdown (as at exit) does nothing
    assert services.closed


def test_host_code_can_run_the_async_services_on_the_apps_loop(services: Services) -> None:
    app = flask.Flask(__name__)
    WalkerChannels(services, app=app)
    try:
        queue = WalkerChannels.call(app, services.review.queue, admin_scope(None))
    finally:
        WalkerChannels.shutdown(app)

    assert queue == ()
