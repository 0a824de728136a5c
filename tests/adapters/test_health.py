"""``GET /api/v1/admin/health`` through both adapters: superusers see whether the database
answers, how many messages wait and how long the oldest has waited; 503 when it does not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import flask
import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_harness import (
    ADMIN,
    BASE_URL,
    PRINCIPALS,
    PSEUDONYM_KEY,
    Harness,
    MakeApp,
    new_sid,
)

from walker_channels.agents import echo_agent
from walker_channels.app import Settings, build_services
from walker_channels.models import Channel
from walker_channels.testing import RecordingTransport
from walker_channels_fastapi import create_router
from walker_channels_flask import WalkerChannels

HEALTH = f"{ADMIN}/health"
ROOT = PRINCIPALS["root"]


def test_health_needs_a_superuser(app: Harness) -> None:
    assert app.get(HEALTH, user=None).status_code == 401
    assert app.get(HEALTH, user="alice").status_code == 403


def test_an_idle_app_reports_a_reachable_database_and_an_empty_queue(app: Harness) -> None:
    response = app.get(HEALTH)

    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["database"]["reachable"] is True
    assert report["database"]["latency_ms"] >= 0
    assert report["queue"] == {
        "waiting": 0,
        "in_progress": 0,
        "oldest_waiting_at": None,
        "oldest_waiting_age_seconds": None,
    }


def test_messages_left_for_a_worker_are_counted_and_the_oldest_is_dated(
    make_app: MakeApp,
) -> None:
    app = make_app(walker_webhook_processing="queue")  # the web process only accepts
    first_sent = datetime.now().astimezone()
    for text in ("one", "two", "three"):
        assert app.inbound(text, sid=new_sid()).status_code == 200

    queue = app.get(HEALTH).json()["queue"]

    assert (queue["waiting"], queue["in_progress"]) == (3, 0)
    oldest = datetime.fromisoformat(queue["oldest_waiting_at"])
    assert abs((oldest - first_sent).total_seconds()) < 5
    assert 0 <= queue["oldest_waiting_age_seconds"] < 60


@contextmanager
def _unreachable_app(adapter: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """An app whose SQLite file cannot be opened (its directory does not exist)."""
    settings = Settings(
        walker_database_url=f"sqlite:///{tmp_path / 'missing' / 'walker.db'}",
        walker_pseudonym_key=PSEUDONYM_KEY,
        walker_migrate_on_start=False,
        walker_sweep_interval=0,
    )
    services = build_services(
        settings, agent=echo_agent(), whatsapp_transport=RecordingTransport(Channel.WHATSAPP)
    )
    with ExitStack() as stack:
        if adapter == "fastapi":
            fastapi_app = FastAPI()
            fastapi_app.include_router(create_router(services, principal=lambda: ROOT))
            yield stack.enter_context(TestClient(fastapi_app, base_url=BASE_URL))
        else:
            flask_app = flask.Flask(__name__)
            WalkerChannels(services, principal=lambda: ROOT).init_app(flask_app)
            stack.callback(WalkerChannels.shutdown, flask_app)
            transport = httpx.WSGITransport(app=flask_app)
            yield stack.enter_context(httpx.Client(transport=transport, base_url=BASE_URL))


def test_a_database_that_cannot_be_reached_is_reported_with_503(
    adapter: str, tmp_path: Path
) -> None:
    with _unreachable_app(adapter, tmp_path) as client:
        response = client.get(HEALTH)

    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "unavailable"
    assert report["database"]["reachable"] is False
    assert "database" in report["database"]["error"]
    assert report["queue"] is None
