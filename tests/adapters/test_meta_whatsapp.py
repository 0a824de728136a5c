"""WhatsApp over Meta's Cloud API end to end, through both adapters: Meta's documented webhook
payloads (tests/fixtures/meta) in, replies out through the real Meta transport to a
Graph-API-like server on loopback (its own loop, in a thread). Both adapters return once the
work after the answer (the reply) has run, so "nothing more was sent" needs no waiting."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_harness import TENANT_A, Harness, MakeApp

from walker_channels.exceptions import OutsideServiceWindow
from walker_channels.meta import META_WHATSAPP
from walker_channels.models import Address, WhatsAppTemplate
from walker_channels.ports import TenantRegistry
from walker_channels.testing import GraphLikeServer, meta_webhook_headers
from walker_channels.testing.meta_server import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    SentMessage,
    dropped,
    rate_limited,
)

WEBHOOK = "/api/v1/channels/meta-whatsapp/webhook"
LOG = "/api/v1/admin/conversations/whatsapp"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "meta-verify-token-for-tests"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
INBOUND = sorted(path.stem for path in FIXTURES.glob("inbound_*.json"))
WAIT_SECONDS = 5.0
STEPS = ("sent", "delivered", "read")
TEMPLATE_SID = "HX" + "ab" * 16
PERSON = Address(channel=META_WHATSAPP, value="+16505551234")


@pytest.fixture
def graph() -> Iterator[GraphLikeServer]:
    """A Graph-API-like messages endpoint on 127.0.0.1, on its own event loop in a thread."""
    with GraphLikeServer().in_thread() as server:
        yield server


@pytest.fixture
def app(make_app: MakeApp, graph: GraphLikeServer) -> Harness:
    return meta_app(make_app, graph)


def meta_app(make_app: MakeApp, graph: GraphLikeServer) -> Harness:
    """The app serving meta-whatsapp (from the META_* settings), its number owned by tenant A."""
    harness = make_app(**meta_settings(graph))
    number = Address(channel=META_WHATSAPP, value=PHONE_NUMBER_ID)

    async def seed() -> None:
        tenants = harness.services.stores.tenants
        assert isinstance(tenants, TenantRegistry)
        await tenants.add_number(TENANT_A, number)

    harness.run(seed)
    return harness


def meta_settings(graph: GraphLikeServer) -> dict[str, Any]:
    """The META_* settings (by field name) that serve meta-whatsapp through ``graph``."""
    return {
        "meta_whatsapp_token": ACCESS_TOKEN,
        "meta_app_secret": APP_SECRET,
        "meta_verify_token": VERIFY_TOKEN,
        "meta_phone_number_id": PHONE_NUMBER_ID,
        "meta_graph_base_url": graph.base_url,
        "meta_templates": {TEMPLATE_SID: {"name": "order_update", "language": "en_US"}},
    }


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def post(app: Harness, document: Any, *, secret: str = APP_SECRET) -> httpx.Response:
    """POST ``document`` to the webhook, signed as Meta signs it."""
    body = json.dumps(document).encode()
    response: httpx.Response = app.client.post(
        WEBHOOK, content=body, headers=meta_webhook_headers(secret, body)
    )
    return response


def sends(graph: GraphLikeServer, count: int) -> list[SentMessage]:
    """The first ``count`` messages the Graph API accepted (waited for, within bounds)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(graph.sent) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(graph.sent) >= count, f"the Graph API got {len(graph.sent)} of {count}"
    return graph.sent[:count]


def log_types(app: Harness) -> list[str]:
    """The meta-whatsapp event types of the admin log, oldest first."""
    items = app.get(LOG, channel=META_WHATSAPP.value).json()["items"]
    return [item["type"] for item in reversed(items)]


def test_the_subscription_check_echoes_the_challenge(app: Harness) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }

    response = app.client.get(WEBHOOK, params=query)

    assert (response.status_code, response.text) == (200, "1158201444")
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
def test_a_wrong_or_missing_verify_token_is_403(app: Harness, query: dict[str, str]) -> None:
    response = app.client.get(WEBHOOK, params=query)

    assert response.status_code == 403
    assert "1158201444" not in response.text


def test_every_kind_of_inbound_message_is_answered_through_the_graph_api(
    app: Harness, graph: GraphLikeServer
) -> None:
    for count, name in enumerate(INBOUND, start=1):
        response = post(app, fixture(name))

        assert (response.status_code, response.text) == (200, ""), name
        reply = sends(graph, count)[-1]
        assert reply.phone_number_id == PHONE_NUMBER_ID
        assert reply.payload["to"] == "+16505551234"
        assert str(reply.payload["text"]["body"]).startswith("Echo:"), name
    assert len(INBOUND) == 15
    assert log_types(app) == ["inbound", "outbound"] * len(INBOUND)


def test_a_batch_answers_every_message_in_it(app: Harness, graph: GraphLikeServer) -> None:
    assert post(app, fixture("batch")).status_code == 200

    replies = sends(graph, 3)
    assert sorted(str(r.payload["text"]["body"]) for r in replies) == [
        "Echo: First",
        "Echo: Second",
        "Echo: Third",
    ]


def test_a_redelivered_message_is_answered_once(app: Harness, graph: GraphLikeServer) -> None:
    first, again = post(app, fixture("inbound_text")), post(app, fixture("inbound_text"))

    assert first.status_code == again.status_code == 200
    sends(graph, 1)
    assert len(graph.sent) == 1
    assert log_types(app) == ["inbound", "outbound"]


def test_delivery_statuses_of_the_reply_are_applied(app: Harness, graph: GraphLikeServer) -> None:
    post(app, fixture("inbound_text"))
    [reply] = sends(graph, 1)

    answers = [post(app, graph.status_notification(reply.wamid, status)) for status in STEPS]

    assert [answer.status_code for answer in answers] == [200] * len(STEPS)
    assert log_types(app) == ["inbound", "outbound", *["delivery_status"] * len(STEPS)]


def test_a_failed_status_is_applied_with_metas_error_code(
    app: Harness, graph: GraphLikeServer
) -> None:
    post(app, fixture("inbound_text"))
    [reply] = sends(graph, 1)
    errors: list[dict[str, object]] = [{"code": 131047, "title": "Re-engagement message"}]

    response = post(app, graph.status_notification(reply.wamid, "failed", errors=errors))

    assert response.status_code == 200
    items = app.get(LOG, channel=META_WHATSAPP.value).json()["items"]
    [event] = [item for item in items if item["type"] == "delivery_status"]
    assert event["error_code"] == "131047"


def test_a_reply_throttled_with_429_is_sent_after_retry_after(
    app: Harness, graph: GraphLikeServer
) -> None:
    graph.script(rate_limited(retry_after="0"))

    post(app, fixture("inbound_text"))

    [reply] = sends(graph, 1)
    assert len(graph.received) == 2
    assert reply.payload["text"]["body"] == "Echo: Does it come in another color?"


def test_a_reply_whose_answer_was_lost_is_not_resent_and_its_status_settles_it(
    app: Harness, graph: GraphLikeServer
) -> None:
    graph.script(dropped())

    post(app, fixture("inbound_text"))
    [reply] = sends(graph, 1)
    assert len(graph.received) == 1  # never resent: Meta has it
    items = app.get(LOG, channel=META_WHATSAPP.value).json()["items"]
    assert [item["outcome_unknown"] for item in items if item["direction"] == "outbound"] == [True]

    response = post(app, graph.status_notification(reply.wamid, "sent"))

    assert response.status_code == 200
    assert reply.payload["biz_opaque_callback_data"]  # the ledger key, echoed by the status
    # Settled as sent by that status (same instant as the status itself, so in either order).
    assert sorted(log_types(app)) == ["delivery_status", "inbound", "outbound", "outbound_failed"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"Content-Type": "application/json", "X-Hub-Signature-256": "not-a-signature"},
    ],
)
def test_a_missing_or_bad_signature_is_403_and_nothing_is_stored(
    app: Harness, graph: GraphLikeServer, headers: dict[str, str]
) -> None:
    body = json.dumps(fixture("inbound_text")).encode()

    response = app.client.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 403
    assert "detail" in response.json()
    assert graph.sent == []
    assert log_types(app) == []


def test_a_body_signed_with_another_secret_is_403(app: Harness, graph: GraphLikeServer) -> None:
    response = post(app, fixture("inbound_text"), secret="another-app-secret")

    assert response.status_code == 403
    assert graph.sent == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"object": "whatsapp_business_account", "entry": {}}', b"\xff\xfe"],
)
def test_a_signed_malformed_body_is_400_with_a_detail(
    app: Harness, graph: GraphLikeServer, body: bytes
) -> None:
    response = app.client.post(
        WEBHOOK, content=body, headers=meta_webhook_headers(APP_SECRET, body)
    )

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert graph.sent == []


def test_outside_the_24_hour_window_only_a_template_goes_out(
    app: Harness, graph: GraphLikeServer
) -> None:
    proactive = app.services.proactive
    template = WhatsAppTemplate(content_sid=TEMPLATE_SID, variables={"1": "Ada"})

    async def free_text() -> object:
        return await proactive.send(
            tenant_id=TENANT_A, to=PERSON, idempotency_key="promo-1", text="Hello again"
        )

    async def approved_template() -> object:
        return await proactive.send(
            tenant_id=TENANT_A, to=PERSON, idempotency_key="promo-2", template=template
        )

    with pytest.raises(OutsideServiceWindow):
        app.run(free_text)
    app.run(approved_template)

    [sent] = sends(graph, 1)
    assert sent.payload["type"] == "template"
    assert sent.payload["template"]["name"] == "order_update"
