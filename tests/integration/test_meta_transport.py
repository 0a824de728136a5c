"""The Meta transport against a Graph-API-like server on loopback: what it POSTs, what Meta's
answers become, what is retried (rate limits, with Retry-After) and what never is (refusals,
an outcome lost after the request went out)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from walker_channels.exceptions import DeliveryUnknown, ProviderError, TransportError
from walker_channels.meta import META_WHATSAPP, MetaConfig, MetaTransport
from walker_channels.models import Address, DeliveryStatus, OutboundMessage, WhatsAppTemplate
from walker_channels.retrying import RetrySettings
from walker_channels.testing import GraphLikeServer
from walker_channels.testing.meta_server import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    dropped,
    graph_error,
    rate_limited,
)

pytestmark = pytest.mark.anyio

SECOND_NUMBER_ID = "107720013377420"
TEMPLATE_SID = "HX" + "cd" * 16
TO = Address(channel=META_WHATSAPP, value="+16505551234")

MakeTransport = Callable[..., MetaTransport]


def text(body: str = "Hello", **fields: Any) -> OutboundMessage:
    return OutboundMessage(channel=META_WHATSAPP, to=TO, text=body, **fields)


@pytest.fixture
async def server() -> AsyncIterator[GraphLikeServer]:
    async with GraphLikeServer(phone_number_ids=(PHONE_NUMBER_ID, SECOND_NUMBER_ID)) as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
async def make_transport(
    server: GraphLikeServer, waits: list[float]
) -> AsyncIterator[MakeTransport]:
    """Transports on the loopback server whose waits are recorded instead of slept."""
    built: list[MetaTransport] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    def make(**overrides: Any) -> MetaTransport:
        settings: dict[str, Any] = {
            "access_token": ACCESS_TOKEN,
            "app_secret": "app-secret",
            "phone_number_id": PHONE_NUMBER_ID,
            "graph_base_url": server.base_url,
            "templates": {TEMPLATE_SID: {"name": "order_update", "language": "en_US"}},
            "read_timeout": 2.0,
            **overrides,
        }
        transport = MetaTransport(MetaConfig.model_validate(settings), sleep=record)
        built.append(transport)
        return transport

    yield make
    for transport in built:
        await transport.aclose()


async def test_text_is_posted_as_json_with_the_bearer_token(
    server: GraphLikeServer, make_transport: MakeTransport
) -> None:
    result = await make_transport().send(text("Hi", idempotency_key="reply:1"))

    [request] = server.received
    assert (request.method, request.path) == ("POST", f"/v21.0/{PHONE_NUMBER_ID}/messages")
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.json()["text"] == {"body": "Hi", "preview_url": False}
    [sent] = server.sent
    assert (result.provider_message_id, result.status) == (sent.wamid, DeliveryStatus.ACCEPTED)
    assert result.channel == META_WHATSAPP
    assert sent.payload["biz_opaque_callback_data"] == "reply:1"


async def test_a_reply_goes_from_the_number_the_person_wrote_to(
    server: GraphLikeServer, make_transport: MakeTransport
) -> None:
    sender = Address(channel=META_WHATSAPP, value=SECOND_NUMBER_ID)

    await make_transport().send(text(sender=sender))

    [sent] = server.sent
    assert sent.phone_number_id == SECOND_NUMBER_ID


async def test_a_template_send_is_accepted_by_the_graph_api(
    server: GraphLikeServer, make_transport: MakeTransport
) -> None:
    template = WhatsAppTemplate(content_sid=TEMPLATE_SID, variables={"1": "Ada"})
    message = OutboundMessage(channel=META_WHATSAPP, to=TO, template=template)

    await make_transport(graph_version="v22.0").send(message)

    [request] = server.received
    assert request.path == f"/v22.0/{PHONE_NUMBER_ID}/messages"
    assert request.json()["template"]["name"] == "order_update"


async def test_a_429_is_retried_after_its_retry_after(
    server: GraphLikeServer, make_transport: MakeTransport, waits: list[float]
) -> None:
    server.script(rate_limited(retry_after="7"))

    result = await make_transport().send(text())

    assert len(server.received) == 2
    assert waits == [7.0]
    assert result.provider_message_id == server.sent[0].wamid


async def test_a_rate_limit_answered_with_400_is_retried_with_backoff(
    server: GraphLikeServer, make_transport: MakeTransport, waits: list[float]
) -> None:
    server.script(graph_error(400, 131056), graph_error(400, 80007))
    retry = RetrySettings(attempts=3, initial_backoff=0.5, max_backoff=4.0)

    await make_transport(retry=retry).send(text())

    assert len(server.received) == 3
    assert waits == [0.5, 1.0]


async def test_retries_stop_after_the_attempts_with_the_rate_limit_error(
    server: GraphLikeServer, make_transport: MakeTransport, waits: list[float]
) -> None:
    server.script(*[rate_limited(retry_after="120")] * 3)

    with pytest.raises(ProviderError) as caught:
        await make_transport(retry=RetrySettings(attempts=3, retry_after_cap=5)).send(text())

    assert len(server.received) == 3
    assert waits == [5.0, 5.0]
    assert (caught.value.code, caught.value.retryable) == ("130429", True)
    assert server.sent == []


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (graph_error(400, 131047, message="Re-engagement message"), "131047"),
        (graph_error(400, 131026, message="Message Undeliverable"), "131026"),
        (graph_error(400, 131051, message="Unsupported message type"), "131051"),
    ],
)
async def test_a_refusal_is_never_retried(
    server: GraphLikeServer, make_transport: MakeTransport, answer: Any, code: str
) -> None:
    server.script(answer)

    with pytest.raises(ProviderError) as caught:
        await make_transport().send(text())

    assert len(server.received) == 1
    assert (caught.value.code, caught.value.retryable) == (code, False)


async def test_a_wrong_token_is_metas_auth_error(
    server: GraphLikeServer, make_transport: MakeTransport
) -> None:
    with pytest.raises(ProviderError, match="META_WHATSAPP_TOKEN") as caught:
        await make_transport(access_token="expired-token").send(text())

    assert caught.value.code == "190"
    assert len(server.received) == 1


async def test_an_unknown_phone_number_id_is_refused(
    server: GraphLikeServer, make_transport: MakeTransport
) -> None:
    with pytest.raises(ProviderError, match="META_PHONE_NUMBER_ID"):
        await make_transport(phone_number_id="999").send(text())


async def test_a_connection_dropped_after_the_request_is_an_unknown_outcome_never_resent(
    server: GraphLikeServer, make_transport: MakeTransport, waits: list[float]
) -> None:
    server.script(dropped())

    with pytest.raises(DeliveryUnknown):
        await make_transport().send(text())

    assert len(server.received) == 1
    assert len(server.sent) == 1  # Meta took it: resending would send it twice
    assert waits == []


async def test_a_refused_connection_is_not_sent_and_retried() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = MetaConfig.model_validate(
        {
            "access_token": "token",
            "app_secret": "secret",
            "phone_number_id": PHONE_NUMBER_ID,
            "graph_base_url": f"http://127.0.0.1:{port}",
            "retry": RetrySettings.without_waits(attempts=2),
        }
    )

    async with MetaTransport(config) as transport:
        with pytest.raises(TransportError) as caught:
            await transport.send(text())

    assert not isinstance(caught.value, DeliveryUnknown)
    assert caught.value.retryable is True


async def test_a_shared_client_is_left_open(server: GraphLikeServer) -> None:
    config = MetaConfig.model_validate(
        {
            "access_token": ACCESS_TOKEN,
            "app_secret": "secret",
            "phone_number_id": PHONE_NUMBER_ID,
            "graph_base_url": server.base_url,
        }
    )
    async with httpx.AsyncClient() as client:
        async with MetaTransport(config, client=client) as transport:
            await transport.send(text())
        assert not client.is_closed
    assert len(server.sent) == 1
