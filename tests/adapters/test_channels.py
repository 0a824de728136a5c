"""Sending for a tenant: WhatsApp proactive sends and the email endpoints, on both adapters."""

from __future__ import annotations

from typing import Any

import pytest
from web_harness import EMAIL, PERSON, PERSON_EMAIL, SEND_WHATSAPP, TENANT_A, TENANT_B, Harness

TEMPLATE = {"content_sid": "HX" + "a" * 32, "variables": {"1": "Ada"}}


def send(app: Harness, user: str | None = "alice", **fields: Any) -> dict[str, Any]:
    """POST a WhatsApp send as ``user`` and return the JSON answer with its status."""
    body = {"tenant_id": TENANT_A, "to": PERSON, "text": "Your order shipped", **fields}
    response = app.post(SEND_WHATSAPP, body, user=user)
    return {"status": response.status_code, **response.json()}


def test_a_member_sends_free_text_to_someone_who_wrote_today(app: Harness) -> None:
    app.inbound("hi")

    answer = send(app)

    assert answer["status"] == 200
    assert answer["state"] == "sent"
    assert [m.text for m in app.whatsapp.sent] == ["Echo: hi", "Your order shipped"]


def test_free_text_outside_the_24_hour_window_is_refused_but_a_template_is_sent(
    app: Harness,
) -> None:
    refused = send(app)
    sent = send(app, text=None, template=TEMPLATE)

    assert refused["status"] == 422
    assert "template" in str(refused["detail"])
    assert sent["status"] == 200
    [message] = app.whatsapp.sent
    assert message.template is not None


def test_a_repeated_idempotency_key_sends_once(app: Harness) -> None:
    first = send(app, text=None, template=TEMPLATE, idempotency_key="order-17")
    second = send(app, text=None, template=TEMPLATE, idempotency_key="order-17")

    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert len(app.whatsapp.sent) == 1


def test_a_member_of_another_tenant_cannot_send_for_this_one(app: Harness) -> None:
    answer = send(app, user="bob", text=None, template=TEMPLATE)

    assert answer["status"] == 403
    assert app.whatsapp.sent == []


def test_a_superuser_may_send_for_any_tenant(app: Harness) -> None:
    answer = send(app, user="root", tenant_id=TENANT_B, text=None, template=TEMPLATE)

    assert answer["status"] == 200


def test_sending_without_a_principal_is_401(app: Harness) -> None:
    assert send(app, user=None)["status"] == 401


@pytest.mark.parametrize("number", ["12345", "+1 555 0100 999 999", "whatsapp:nope", "+999123"])
def test_an_invalid_phone_number_is_422_without_echoing_it(app: Harness, number: str) -> None:
    answer = send(app, to=number, text=None, template=TEMPLATE)

    assert answer["status"] == 422
    assert number not in str(answer["detail"])


@pytest.mark.parametrize(
    "fields",
    [
        {"tenant_id": ""},
        {"text": None},
        {"text": "x" * 1601},
        {"template": {"content_sid": "not-a-sid"}},
        {"media_url": "ftp://example.com/cat.png"},
        {"unexpected": True},
    ],
)
def test_an_invalid_send_request_is_422_with_a_field_list(
    app: Harness, fields: dict[str, Any]
) -> None:
    app.inbound("hi")

    answer = send(app, **fields)

    assert answer["status"] == 422
    assert isinstance(answer["detail"], list)
    assert all({"loc", "msg", "type"} <= set(issue) for issue in answer["detail"])
    assert PERSON not in str(answer["detail"])


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(app: Harness, body: bytes) -> None:
    response = app.client.post(
        SEND_WHATSAPP,
        content=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer alice"},
    )

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)


def test_a_member_sends_an_email_from_subject_and_body(app: Harness) -> None:
    body = {
        "tenant_id": TENANT_A,
        "recipient_email": PERSON_EMAIL,
        "subject": "Hello",
        "body": "Welcome aboard",
    }

    response = app.post(f"{EMAIL}/send", body, user="alice")

    assert response.status_code == 200
    assert PERSON_EMAIL not in response.text
    [email] = app.email.sent
    assert email.to.value == PERSON_EMAIL
    assert email.email is not None
    assert email.email.subject == "Hello"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"recipient_email": "not-an-address", "subject": "Hi", "body": "x"}, 422),
        ({"recipient_email": "a@b", "subject": "Hi", "body": "x"}, 422),
        ({"recipient_email": PERSON_EMAIL, "template_name": "no_such_template"}, 404),
        ({"recipient_email": PERSON_EMAIL, "subject": "Hi"}, 422),
    ],
)
def test_an_unusable_email_request_is_refused(
    app: Harness, body: dict[str, object], status: int
) -> None:
    response = app.post(f"{EMAIL}/send", {"tenant_id": TENANT_A, **body}, user="alice")

    assert response.status_code == status
    assert "not-an-address" not in response.text
    assert app.email.sent == []


def test_a_member_of_another_tenant_cannot_email_for_this_one(app: Harness) -> None:
    body = {"tenant_id": TENANT_A, "recipient_email": PERSON_EMAIL, "subject": "x", "body": "y"}

    assert app.post(f"{EMAIL}/send", body, user="bob").status_code == 403
    assert app.post(f"{EMAIL}/send", body, user=None).status_code == 401
    assert app.email.sent == []


def test_a_daily_brief_is_sent_with_its_sections(app: Harness) -> None:
    body = {"user_id": "alice", "tenant_id": TENANT_A, "recipient_email": PERSON_EMAIL}

    response = app.post(f"{EMAIL}/send-daily-brief", body, user="alice")

    assert response.status_code == 200
    assert "analytics" in response.json()["sections"]
    assert len(app.email.sent) == 1
    assert app.post(f"{EMAIL}/send-daily-brief", body, user="bob").status_code == 403


def test_a_daily_brief_schedule_is_saved_without_echoing_the_address(app: Harness) -> None:
    body = {
        "tenant_id": TENANT_A,
        "user_id": "alice",
        "recipient_email": PERSON_EMAIL,
        "local_time": "07:30",
        "timezone": "Europe/Berlin",
    }

    response = app.post(f"{EMAIL}/schedule-daily-brief", body, user="alice")

    assert response.status_code == 200
    assert response.json()["timezone"] == "Europe/Berlin"
    assert PERSON_EMAIL not in response.text
    bad_zone = app.post(
        f"{EMAIL}/schedule-daily-brief", {**body, "timezone": "Mars/Olympus"}, user="alice"
    )
    assert bad_zone.status_code == 422
    assert app.post(f"{EMAIL}/schedule-daily-brief", body, user="bob").status_code == 403


def test_the_template_listing_is_for_anyone_signed_in(app: Harness) -> None:
    listed = app.get(f"{EMAIL}/templates", user="bob")

    assert listed.status_code == 200
    names = {template["name"] for template in listed.json()["templates"]}
    assert {"daily_brief", "custom_message"} <= names
    assert app.get(f"{EMAIL}/templates", user=None).status_code == 401
