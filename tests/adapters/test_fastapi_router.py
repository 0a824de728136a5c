"""Only in the FastAPI adapter: its OpenAPI document, a prefix, and the services dependency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_harness import BASE_URL, WEBHOOK, as_user, build_test_services, fastapi_principal

from walker_channels.app import Services
from walker_channels_fastapi import ServicesDep, create_router

TABLE = {
    ("post", "/api/v1/channels/whatsapp/webhook"),
    ("post", "/api/v1/channels/whatsapp/status"),
    ("post", "/api/v1/channels/whatsapp/send"),
    ("post", "/api/v1/channels/sms/webhook"),
    ("post", "/api/v1/channels/sms/status"),
    ("post", "/api/v1/channels/sms/send"),
    ("post", "/api/v1/channels/email/send-daily-brief"),
    ("post", "/api/v1/channels/email/send"),
    ("post", "/api/v1/channels/email/schedule-daily-brief"),
    ("get", "/api/v1/channels/email/templates"),
    ("get", "/api/v1/admin/conversations/whatsapp"),
    ("get", "/api/v1/admin/conversations/stats"),
    ("get", "/api/v1/admin/analytics/walker-agents"),
    ("get", "/api/v1/admin/hitl/review-queue"),
    ("post", "/api/v1/admin/hitl/{approval_id}/approve"),
    ("post", "/api/v1/admin/hitl/{approval_id}/reject"),
    ("post", "/api/v1/admin/erasure"),
    ("get", "/api/v1/admin/tenants"),
    ("post", "/api/v1/admin/tenants"),
    ("post", "/api/v1/admin/tenants/{tenant_id}/numbers"),
    ("delete", "/api/v1/admin/tenants/{tenant_id}/numbers"),
    ("get", "/api/v1/admin/tenants/{tenant_id}/opt-outs"),
    ("post", "/api/v1/admin/tenants/{tenant_id}/opt-outs/lift"),
    ("get", "/api/v1/admin/tenants/{tenant_id}/settings"),
    ("put", "/api/v1/admin/tenants/{tenant_id}/settings"),
    ("get", "/api/v1/admin/conversations"),
    ("get", "/api/v1/admin/conversations/{conversation_id}"),
    ("post", "/api/v1/admin/conversations/{conversation_id}/takeover"),
    ("post", "/api/v1/admin/conversations/{conversation_id}/reply"),
    ("post", "/api/v1/admin/conversations/{conversation_id}/release"),
    ("get", "/api/v1/admin/outbound/unsettled"),
    ("post", "/api/v1/admin/outbound/{key}/resend"),
    ("post", "/api/v1/admin/hitl/{approval_id}/resend"),
    ("get", "/api/v1/admin/health"),
    ("get", "/api/v1/admin/dead-letters"),
    ("post", "/api/v1/admin/dead-letters/{message_id}/retry"),
}
"""DESIGN.md's HTTP surface (with SMS, which the test services configure)."""


@pytest.fixture
def services(tmp_path: Path) -> Services:
    """Fresh services on a SQLite file."""
    return build_test_services(tmp_path / "walker.db")[0]


@pytest.fixture
def openapi(services: Services) -> Iterator[dict[str, Any]]:
    """The OpenAPI document of an app that mounts the router."""
    app = FastAPI()
    app.include_router(create_router(services, principal=fastapi_principal))
    with TestClient(app) as client:
        yield client.get("/openapi.json").json()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation of the document by (method, path)."""
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_the_openapi_document_lists_every_endpoint_of_the_design(openapi: dict[str, Any]) -> None:
    assert set(operations(openapi)) == TABLE


def test_every_body_query_and_answer_is_described(openapi: dict[str, Any]) -> None:
    for (method, path), operation in operations(openapi).items():
        if method == "post" and "requestBody" in operation:  # actions such as takeover have none
            schema = next(iter(operation["requestBody"]["content"].values()))["schema"]
            assert schema["properties"], path
        success = operation["responses"]["200"]["content"]
        assert success, path
        assert "401" in operation["responses"] or "twilio" in operation["tags"], path
    log = operations(openapi)[("get", "/api/v1/admin/conversations/whatsapp")]
    assert {p["name"] for p in log["parameters"]} >= {"start", "end", "tenant_id", "cursor"}
    approve = operations(openapi)[("post", "/api/v1/admin/hitl/{approval_id}/approve")]
    assert {"name": "approval_id", "in": "path"}.items() <= approve["parameters"][-1].items()


def test_the_router_mounts_under_a_prefix(services: Services) -> None:
    app = FastAPI()
    app.include_router(create_router(services, prefix="/walker"))

    with TestClient(app, base_url=BASE_URL) as client:
        assert client.post("/walker" + WEBHOOK).status_code == 403
        assert client.post(WEBHOOK).status_code == 404


def test_without_a_principal_dependency_only_twilio_endpoints_are_usable(
    services: Services,
) -> None:
    app = FastAPI()
    app.include_router(create_router(services))

    with TestClient(app) as client:
        response = client.get("/api/v1/admin/hitl/review-queue", headers=as_user("root"))

    assert response.status_code == 401


def test_host_endpoints_get_the_running_services_from_the_dependency(services: Services) -> None:
    app = FastAPI()
    app.include_router(create_router(services))

    @app.get("/host/agent")
    def agent_of(running: ServicesDep) -> dict[str, bool]:
        return {"same": running is services}

    with TestClient(app) as client:
        assert client.get("/host/agent").json() == {"same": True}
