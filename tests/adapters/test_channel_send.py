"""``POST /api/v1/channels/{name}/send`` on the channels with a generic webhook (Telegram, Meta's
WhatsApp), through both adapters, with the real transports and their loopback servers: each
channel's address rule, its service window, idempotency, and the endpoint in the OpenAPI
document."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from test_meta_whatsapp import TEMPLATE_SID, fixture, meta_app, meta_settings, post, sends
from test_telegram import CHAT, post_update, sent, telegram_app, update
from web_harness import TENANT_A, TENANT_B, Harness, MakeApp, running_app

from walker_channels.testing import GraphLikeServer, TelegramLikeServer

SEND_TELEGRAM = "/api/v1/channels/telegram/send"
SEND_META = "/api/v1/channels/meta-whatsapp/send"
META_PERSON = "+16505551234"
"""The person who writes in tests/fixtures/meta."""
TEMPLATE = {"content_sid": TEMPLATE_SID, "variables": {"1": "Ada"}}


@pytest.fixture
def telegram() -> Iterator[TelegramLikeServer]:
    with TelegramLikeServer().in_thread() as server:
        yield server


@pytest.fixture
def graph() -> Iterator[GraphLikeServer]:
    with GraphLikeServer().in_thread() as server:
        yield server


@pytest.fixture
def bot(make_app: MakeApp, telegram: TelegramLikeServer) -> Harness:
    return telegram_app(make_app, telegram)


@pytest.fixture
def meta(make_app: MakeApp, graph: GraphLikeServer) -> Harness:
    return meta_app(make_app, graph)


def send(app: Harness, path: str, user: str | None = "alice", **fields: Any) -> dict[str, Any]:
    """POST a send as ``user``; the JSON answer with its status."""
    body = {"tenant_id": TENANT_A, "text": "Your order shipped", **fields}
    response = app.post(path, body, user=user)
    return {"status": response.status_code, **response.json()}


@pytest.mark.parametrize("chat", ["7000000001", " 7000000001 ", "-1001234567890", "@walker_news"])
def test_a_member_sends_on_telegram_to_a_chat_id_or_a_channel(
    bot: Harness, telegram: TelegramLikeServer, chat: str
) -> None:
    answer = send(bot, SEND_TELEGRAM, to=chat)

    assert (answer["status"], answer["state"]) == (200, "sent")
    assert answer["provider_message_id"] is not None
    [call] = sent(telegram, 1)
    assert (call.method, call.payload) == (
        "sendMessage",
        {"chat_id": chat.strip(), "text": "Your order shipped"},
    )


def test_a_repeated_idempotency_key_sends_once_on_telegram(
    bot: Harness, telegram: TelegramLikeServer
) -> None:
    first = send(bot, SEND_TELEGRAM, to="7000000001", idempotency_key="order-17")
    second = send(bot, SEND_TELEGRAM, to="7000000001", idempotency_key="order-17")

    assert (first["status"], second["status"]) == (200, 200)
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert len(telegram.sent) == 1


@pytest.mark.parametrize("chat", ["not a chat", "12ab34", "@abc", "+14155552671", "7" * 21])
def test_an_invalid_telegram_address_is_422_without_echoing_it(
    bot: Harness, telegram: TelegramLikeServer, chat: str
) -> None:
    answer = send(bot, SEND_TELEGRAM, to=chat)

    assert answer["status"] == 422
    assert "chat id" in answer["detail"]
    assert chat.strip() not in str(answer["detail"])
    assert telegram.calls == []


def test_a_member_of_another_tenant_cannot_send_on_the_tenants_bot(
    bot: Harness, telegram: TelegramLikeServer
) -> None:
    refused = send(bot, SEND_TELEGRAM, user="bob", to="7000000001")
    anonymous = send(bot, SEND_TELEGRAM, user=None, to="7000000001")
    superuser = send(bot, SEND_TELEGRAM, user="root", tenant_id=TENANT_B, to="7000000001")

    assert (refused["status"], anonymous["status"], superuser["status"]) == (403, 401, 200)
    assert len(telegram.sent) == 1


def test_a_person_who_blocked_the_bot_is_refused_with_409(
    bot: Harness, telegram: TelegramLikeServer
) -> None:
    post_update(bot, update("blocked"))

    answer = send(bot, SEND_TELEGRAM, to=str(CHAT))

    assert answer["status"] == 409
    assert str(CHAT) not in answer["detail"]
    assert telegram.sent == []


def test_meta_free_text_is_sent_within_24_hours_of_the_persons_message(
    meta: Harness, graph: GraphLikeServer
) -> None:
    post(meta, fixture("inbound_text"))
    sends(graph, 1)  # the agent's answer

    answer = send(meta, SEND_META, to=META_PERSON)

    assert (answer["status"], answer["state"]) == (200, "sent")
    proactive = sends(graph, 2)[1]
    assert proactive.payload["to"] == META_PERSON
    assert proactive.payload["text"]["body"] == "Your order shipped"


def test_meta_free_text_outside_the_window_is_refused_but_a_template_is_sent(
    meta: Harness, graph: GraphLikeServer
) -> None:
    refused = send(meta, SEND_META, to=META_PERSON)
    first = send(meta, SEND_META, to=META_PERSON, text=None, template=TEMPLATE, idempotency_key="t")
    again = send(meta, SEND_META, to=META_PERSON, text=None, template=TEMPLATE, idempotency_key="t")

    assert refused["status"] == 422
    assert "template" in refused["detail"]
    assert (first["status"], first["duplicate"], again["duplicate"]) == (200, False, True)
    [sent_template] = sends(graph, 1)
    assert len(graph.sent) == 1
    assert sent_template.payload["type"] == "template"
    assert sent_template.payload["template"]["name"] == "order_update"


@pytest.mark.parametrize("number", ["12345", "+999123", "whatsapp:nope", "7000000001"])
def test_an_invalid_meta_number_is_422_without_echoing_it(
    meta: Harness, graph: GraphLikeServer, number: str
) -> None:
    answer = send(meta, SEND_META, to=number, text=None, template=TEMPLATE)

    assert answer["status"] == 422
    assert number not in str(answer["detail"])
    assert graph.received == []


def test_the_send_endpoints_are_in_fastapis_openapi_document_and_its_docs_page(
    tmp_path: Path, telegram: TelegramLikeServer, graph: GraphLikeServer
) -> None:
    with ExitStack() as stack:

        def fastapi_app(**settings: Any) -> Harness:
            return stack.enter_context(running_app("fastapi", tmp_path / "walker.db", **settings))

        app = telegram_app(fastapi_app, telegram, **meta_settings(graph))
        document = app.client.get("/openapi.json").json()
        docs = app.client.get("/docs")

    for path in (SEND_TELEGRAM, SEND_META):
        operation = document["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        fields = {"tenant_id", "to", "text", "media_url", "template", "idempotency_key"}
        assert set(body["properties"]) == fields, path
        assert set(body["required"]) == {"tenant_id", "to"}, path
        assert {"200", "409", "422"} <= set(operation["responses"]), path
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
