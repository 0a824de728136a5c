"""A channel the host writes itself works end to end, with no change to the services.

The channel below is the one of docs/extending.md ("Add a channel"): a web chat widget whose
backend posts each message as JSON with a shared token, and takes the agent's replies at
``POST /messages``. It is registered with ``build_services(channels=[...])`` and served by
the FastAPI adapter; the widget backend is an ``httpx.MockTransport`` that records the replies.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from walker_channels import (
    Address,
    Channel,
    DeliveryStatus,
    DeliveryUnknown,
    InboundMessage,
    InvalidInput,
    InvalidSignature,
    OutboundMessage,
    Principal,
    ProviderError,
    SendResult,
    TransportError,
)
from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.channels import ChannelSpec
from walker_channels.models import WebhookBatch, WebhookRequest
from walker_channels.testing import InMemoryStores, RecordingTransport
from walker_channels_fastapi import create_router

# --- the host's channel, as docs/extending.md shows it --------------------------------------

WEBCHAT = Channel.define("webchat")
TOKEN_HEADER = "X-Webchat-Token"


class WebchatWebhook:
    """Messages from the widget backend: ``{"id", "from", "to", "text"}`` and a shared token."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def receive(self, request: WebhookRequest, *, received_at: datetime) -> WebhookBatch:
        given = request.headers.get(TOKEN_HEADER.lower(), "")
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            raise InvalidSignature(f"the {TOKEN_HEADER} header is missing or wrong")
        try:
            event = json.loads(request.body)
            message = InboundMessage(
                channel=WEBCHAT,
                provider_message_id=f"webchat:{event['id']}",
                sender=Address(channel=WEBCHAT, value=event["from"]),
                recipient=Address(channel=WEBCHAT, value=event["to"]),
                text=event["text"],
                received_at=received_at,
            )
        except (ValueError, KeyError, TypeError):  # a pydantic ValidationError is a ValueError
            raise InvalidInput('send {"id", "from", "to", "text"} as a JSON object') from None
        return WebhookBatch(messages=(message,))


class WebchatTransport:
    """Replies to the widget backend's ``POST /messages``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @property
    def channel(self) -> Channel:
        return WEBCHAT

    async def send(self, message: OutboundMessage) -> SendResult:
        body = {"to": message.to.value, "text": message.text, "key": message.idempotency_key}
        try:
            response = await self._client.post("/messages", json=body)
        except httpx.ConnectError as exc:
            raise TransportError("the widget backend is unreachable", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryUnknown("no answer from the widget backend") from exc
        if response.status_code >= 400:
            retryable = response.status_code == 429 or response.status_code >= 500
            code = str(response.status_code)
            raise ProviderError("the widget backend refused", retryable=retryable, code=code)
        return SendResult(
            channel=WEBCHAT, provider_message_id=response.json()["id"], status=DeliveryStatus.SENT
        )


# --- the test ------------------------------------------------------------------------------

TOKEN = "widget-backend-token"
TENANT = "acme"
WEBHOOK = "/api/v1/channels/webchat/webhook"
LOG = "/api/v1/admin/conversations/whatsapp"
HOST = Address(channel=WEBCHAT, value="acme-support")
ADMIN = Principal(user_id="ops", is_superuser=True)


class Backend:
    """The widget backend: records each reply and answers with its id."""

    def __init__(self) -> None:
        self.replies: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.replies.append(json.loads(request.content))
        return httpx.Response(201, json={"id": f"reply-{len(self.replies)}"})


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    widget = httpx.AsyncClient(
        base_url="https://widget.example.com", transport=httpx.MockTransport(backend)
    )
    spec = ChannelSpec(
        name=WEBCHAT,
        transport=WebchatTransport(widget),
        label="Web chat",
        webhook=WebchatWebhook(TOKEN),
    )

    async def own_the_address(services: Services) -> None:
        await services.stores.tenants.add_number(TENANT, HOST)  # type: ignore[attr-defined]

    services = build_services(
        Settings(walker_pseudonym_key="pseudonym-key-for-tests-0123456789"),
        stores=InMemoryStores(),
        agent=echo_agent(confidence=0.9),
        whatsapp_transport=RecordingTransport(),
        channels=[spec],
        on_start=[own_the_address],
    )
    app = FastAPI()
    app.include_router(create_router(services, principal=lambda: ADMIN))
    with TestClient(app, base_url="https://walker.example.com") as test_client:
        yield test_client


def chat(client: TestClient, text: str, *, id: str = "m-1", token: str = TOKEN) -> httpx.Response:
    body = {"id": id, "from": "visitor-42", "to": HOST.value, "text": text}
    response: httpx.Response = client.post(WEBHOOK, json=body, headers={TOKEN_HEADER: token})
    return response


def test_a_message_in_is_answered_through_the_hosts_transport(
    client: TestClient, backend: Backend
) -> None:
    response = chat(client, "hello from the widget")

    assert response.status_code == 200
    [reply] = backend.replies
    assert (reply["to"], reply["text"]) == ("visitor-42", "Echo: hello from the widget")
    assert isinstance(reply["key"], str)


def test_a_redelivered_message_is_answered_once(client: TestClient, backend: Backend) -> None:
    first, again = chat(client, "hi", id="m-7"), chat(client, "hi", id="m-7")
    other = chat(client, "hi", id="m-8")

    assert first.status_code == again.status_code == other.status_code == 200
    assert len(backend.replies) == 2


def test_the_channels_own_refusals_are_its_http_answers(
    client: TestClient, backend: Backend
) -> None:
    forged = chat(client, "hi", token="guess")
    malformed = client.post(WEBHOOK, content=b"{}", headers={TOKEN_HEADER: TOKEN})

    assert forged.status_code == 403
    assert malformed.status_code == 400
    assert "JSON object" in malformed.json()["detail"]
    assert backend.replies == []


def test_the_conversation_is_logged_on_the_hosts_channel(client: TestClient) -> None:
    chat(client, "hello")

    items = client.get(LOG, params={"channel": "webchat"}).json()["items"]

    assert [item["type"] for item in reversed(items)] == ["inbound", "outbound"]
    assert {item["channel"] for item in items} == {"webchat"}
    assert {item["tenant_id"] for item in items} == {TENANT}
