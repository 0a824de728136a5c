"""The demo serves WhatsApp over Meta's Cloud API when the META_* settings are present: a
signed webhook to its tenant's phone number id is answered through a Graph-API-like server."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from walker_channels.app import Settings
from walker_channels.meta import META_WHATSAPP
from walker_channels.models import Address
from walker_channels.testing import GraphLikeServer, meta_webhook_headers
from walker_channels.testing.meta_server import ACCESS_TOKEN, PHONE_NUMBER_ID
from walker_channels_fastapi.demo import DemoOptions, plan_demo
from walker_channels_fastapi.demo.app import create_demo_app
from walker_channels_fastapi.demo.compose import tenant_numbers

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "meta" / "inbound_text.json"
APP_SECRET = "demo-meta-app-secret"
WAIT_SECONDS = 5.0


@pytest.fixture(autouse=True)
def no_provider_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo reads the environment: these tests start from one without providers."""
    for name in list(os.environ):
        if name.startswith(("TWILIO_", "WALKER_", "SMTP_", "LANGFLOW_", "META_")):
            monkeypatch.delenv(name)


@pytest.fixture
def graph() -> Iterator[GraphLikeServer]:
    with GraphLikeServer().in_thread() as server:
        yield server


def meta_settings(graph: GraphLikeServer) -> Settings:
    return Settings(
        meta_whatsapp_token=ACCESS_TOKEN,
        meta_app_secret=APP_SECRET,
        meta_phone_number_id=PHONE_NUMBER_ID,
        meta_graph_base_url=graph.base_url,
    )


def test_the_demo_tenant_owns_the_meta_number_only_when_it_is_configured(
    graph: GraphLikeServer,
) -> None:
    plain = plan_demo(Settings(), DemoOptions(), port=8123)
    with_meta = plan_demo(meta_settings(graph), DemoOptions(), port=8123)

    meta_number = Address(channel=META_WHATSAPP, value=PHONE_NUMBER_ID)
    assert meta_number not in tenant_numbers(plain)
    assert meta_number in tenant_numbers(with_meta)


def test_the_demo_answers_a_meta_webhook_through_the_graph_api(
    graph: GraphLikeServer, tmp_path: Path
) -> None:
    plan = plan_demo(meta_settings(graph), DemoOptions(database=tmp_path / "demo.db"), port=8123)
    body = FIXTURE.read_bytes()

    with TestClient(create_demo_app(plan), base_url="http://127.0.0.1:8123") as client:
        response = client.post(
            "/api/v1/channels/meta-whatsapp/webhook",
            content=body,
            headers=meta_webhook_headers(APP_SECRET, body),
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while not graph.sent and time.monotonic() < deadline:
            time.sleep(0.02)

    assert response.status_code == 200
    [reply] = graph.sent
    assert reply.payload["to"] == "+16505551234"
    said = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"]
    assert reply.payload["text"] == {"body": f"Echo: {said}", "preview_url": False}
