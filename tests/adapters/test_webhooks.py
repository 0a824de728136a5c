"""The Twilio webhook and status callback, through both adapters."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from functools import partial

import pytest
from web_harness import (
    AUTH_TOKEN,
    BASE_URL,
    NUMBER_B,
    PERSON,
    STATUS,
    WEBHOOK,
    Harness,
    MakeApp,
    inbound_form,
    new_sid,
)

from walker_channels import SIGNATURE_HEADER, SignatureAlgorithm
from walker_channels.app.sweeper import Sweeper
from walker_channels.testing import TwilioSigner
from walker_channels.twilio import parse_inbound_form

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
UNKNOWN_NUMBER = "+14155550199"


def log_types(app: Harness) -> list[str]:
    """The event types in the admin log, oldest first."""
    items = app.get("/api/v1/admin/conversations/whatsapp").json()["items"]
    return [item["type"] for item in reversed(items)]


def test_a_signed_message_gets_empty_twiml_and_the_agent_replies(app: Harness) -> None:
    response = app.inbound("hello there")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    [reply] = app.whatsapp.sent
    assert reply.text == "Echo: hello there"
    assert reply.to.value == PERSON
    assert log_types(app) == ["inbound", "outbound"]


def test_a_message_without_a_signature_is_refused_and_nothing_is_stored(app: Harness) -> None:
    response = app.unsigned_post(WEBHOOK, inbound_form("hello", sid=new_sid()))

    assert response.status_code == 403
    assert response.json() == {"detail": "the request signature could not be verified"}
    assert app.whatsapp.sent == []
    assert log_types(app) == []


def test_a_message_signed_with_another_token_is_refused(app: Harness) -> None:
    response = app.inbound("hello", signer=TwilioSigner("not-the-auth-token"))

    assert response.status_code == 403
    assert app.whatsapp.sent == []


def test_a_message_whose_fields_changed_after_signing_is_refused(app: Harness) -> None:
    sid = new_sid()
    headers, _ = app.signer.form_request(BASE_URL + WEBHOOK, inbound_form("hello", sid=sid))
    _, tampered = app.signer.form_request(BASE_URL + WEBHOOK, inbound_form("pay me", sid=sid))

    response = app.client.post(WEBHOOK, content=tampered, headers=headers)

    assert response.status_code == 403
    assert app.whatsapp.sent == []


def test_a_signature_over_another_url_is_refused(app: Harness) -> None:
    response = app.inbound("hello", url="https://attacker.example.net" + WEBHOOK)

    assert response.status_code == 403


def test_sha256_signatures_verify_with_the_webhook_signing_key(make_app: MakeApp) -> None:
    app = make_app(twilio_webhook_signing_key="shared-webhook-key")
    sha256 = TwilioSigner("shared-webhook-key", algorithm=SignatureAlgorithm.HMAC_SHA256)

    assert app.inbound("hello", signer=sha256).status_code == 200
    # The same signature presented as SHA-1 (no settings header) must not verify.
    as_sha1 = {"X-Twilio-Webhooks-Signature-Settings": ""}
    assert app.inbound("again", signer=sha256, headers=as_sha1).status_code == 403


def test_sha256_signatures_are_refused_when_no_signing_key_is_configured(app: Harness) -> None:
    sha256 = TwilioSigner(AUTH_TOKEN, algorithm=SignatureAlgorithm.HMAC_SHA256)

    assert app.inbound("hello", signer=sha256).status_code == 403


def test_without_an_auth_token_every_webhook_is_refused(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(twilio_auth_token=None)
    caplog.set_level(logging.WARNING, logger="walker_channels.web.webhooks")

    assert app.inbound("hello").status_code == 403
    assert app.unsigned_post(WEBHOOK, inbound_form("hello", sid=new_sid())).status_code == 403
    assert "no Twilio auth token or signing key is configured" in caplog.text


def test_the_development_flag_accepts_unsigned_webhooks_when_no_token_is_set(
    make_app: MakeApp,
) -> None:
    app = make_app(twilio_auth_token=None, walker_allow_unsigned_webhooks=True)

    response = app.unsigned_post(WEBHOOK, inbound_form("hello", sid=new_sid()))

    assert response.status_code == 200
    assert len(app.whatsapp.sent) == 1


def test_the_development_flag_does_not_weaken_a_configured_token(make_app: MakeApp) -> None:
    app = make_app(walker_allow_unsigned_webhooks=True)

    assert app.unsigned_post(WEBHOOK, inbound_form("hello", sid=new_sid())).status_code == 403


def test_the_signature_is_checked_over_the_configured_public_url(make_app: MakeApp) -> None:
    app = make_app(walker_public_url="https://public.example.org")

    assert app.inbound("hello", url="https://public.example.org" + WEBHOOK).status_code == 200
    assert app.inbound("hello", url=BASE_URL + WEBHOOK).status_code == 403


def test_forwarded_headers_rebuild_the_public_url_only_when_trusted(make_app: MakeApp) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example.org"}
    public = "https://public.example.org" + WEBHOOK
    trusting = make_app(
        walker_trust_forwarded_headers=True, walker_allowed_hosts="public.example.org"
    )
    distrusting = make_app()

    assert trusting.inbound("hello", url=public, headers=forwarded).status_code == 200
    assert distrusting.inbound("hello", url=public, headers=forwarded).status_code == 403


def test_a_rejection_is_logged_with_its_reason_and_url_but_no_secret_or_body(
    app: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="walker_channels.web.webhooks")

    app.inbound("my secret words", signer=TwilioSigner("wrong-token"))

    [record] = caplog.records
    message = record.getMessage()
    assert "signature does not match" in message
    assert BASE_URL + WEBHOOK in message
    assert "HMAC_SHA1" in message
    for secret in (AUTH_TOKEN, "wrong-token", "my secret words", PERSON):
        assert secret not in message


def test_a_duplicate_delivery_gets_the_same_answer_and_no_second_reply(app: Harness) -> None:
    sid = new_sid()

    first = app.inbound("hello", sid=sid)
    second = app.inbound("hello", sid=sid)

    assert (
        (first.status_code, first.text) == (second.status_code, second.text) == (200, EMPTY_TWIML)
    )
    assert len(app.whatsapp.sent) == 1
    assert log_types(app) == ["inbound", "outbound"]


def test_inline_processing_replies_before_answering(make_app: MakeApp) -> None:
    app = make_app(walker_webhook_processing="inline")

    assert app.inbound("hello").status_code == 200
    assert [m.text for m in app.whatsapp.sent] == ["Echo: hello"]


def test_queue_processing_answers_twilio_and_leaves_the_reply_to_a_worker(
    make_app: MakeApp,
) -> None:
    app = make_app(walker_webhook_processing="queue", walker_sweep_interval=0.05)

    assert app.inbound("hello").status_code == 200
    time.sleep(0.2)  # long enough for a recovery sweep, which queue mode leaves to the worker
    assert app.whatsapp.sent == []
    assert log_types(app) == ["inbound"]

    worker = Sweeper(
        conversations=app.services.conversations, review=app.services.review, interval=1
    )
    assert app.run(worker.sweep) is True
    assert [m.text for m in app.whatsapp.sent] == ["Echo: hello"]
    assert app.run(worker.sweep) is False


def test_a_message_to_a_number_no_tenant_owns_is_recorded_and_not_answered(app: Harness) -> None:
    response = app.inbound("hello", to=UNKNOWN_NUMBER)

    assert response.status_code == 200
    assert app.whatsapp.sent == []


def test_each_tenant_number_routes_to_its_own_tenant(app: Harness) -> None:
    app.inbound("for b", to=NUMBER_B)

    items = app.get("/api/v1/admin/conversations/whatsapp", tenant_id="tenant-b").json()["items"]
    assert {item["tenant_id"] for item in items} == {"tenant-b"}
    assert (
        app.get("/api/v1/admin/conversations/whatsapp", tenant_id="tenant-a").json()["items"] == []
    )


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"From": "whatsapp:12"}, 422),
        ({"From": "whatsapp:not-a-number"}, 422),
        ({"MessageSid": ""}, 400),
        ({"MessageSid": "../etc/passwd"}, 400),
        ({"To": "+14155550100"}, 400),
    ],
)
def test_a_signed_but_invalid_form_is_refused_with_a_clear_detail(
    app: Harness, change: dict[str, str], status: int
) -> None:
    params = {**inbound_form("hello", sid=new_sid()), **change}

    response = app.signed_post(WEBHOOK, params)

    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)
    assert app.whatsapp.sent == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"MessageSid=SM1&&&Body", "application/x-www-form-urlencoded"),
        (b"Body=%ff%fe", "application/x-www-form-urlencoded"),
        (b'{"MessageSid": "SM1"}', "application/json"),
    ],
)
def test_a_malformed_form_is_a_400(app: Harness, body: bytes, content_type: str) -> None:
    response = app.client.post(
        WEBHOOK, content=body, headers={"Content-Type": content_type, SIGNATURE_HEADER: "x"}
    )

    assert response.status_code == 400


def test_a_status_callback_advances_the_delivery_and_is_logged(app: Harness) -> None:
    app.inbound("hello")
    status_form = {
        "MessageSid": f"SM{1:032x}",  # the id the recording transport gave the reply
        "MessageStatus": "delivered",
        "AccountSid": "AC" + "0" * 32,
        "From": "whatsapp:+14155550100",
        "To": f"whatsapp:{PERSON}",
    }

    response = app.signed_post(STATUS, status_form)

    assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    assert "delivery_status" in log_types(app)


def test_an_unsigned_status_callback_is_refused(app: Harness) -> None:
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}

    assert app.unsigned_post(STATUS, form).status_code == 403


def test_a_message_whose_worker_died_after_accepting_is_finished_by_the_recovery_sweep(
    make_app: MakeApp,
) -> None:
    app = make_app(walker_sweep_interval=0.05)
    message = parse_inbound_form(
        inbound_form("are you there?", sid=new_sid()), received_at=datetime.now(UTC)
    )

    # Accepted as a webhook would, but nothing processes it: as if the process died here.
    app.run(partial(app.services.conversations.accept, message))

    deadline = time.monotonic() + 5
    while not app.whatsapp.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [m.text for m in app.whatsapp.sent] == ["Echo: are you there?"]
