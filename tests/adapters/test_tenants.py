"""Tenants and their numbers through both adapters: superusers only, strict numbers, and a
number mapped through the API is resolved by the very next webhook."""

from __future__ import annotations

import pytest
from web_harness import ADMIN, NUMBER_A, NUMBER_B, TENANT_A, TENANT_B, Harness

TENANTS = f"{ADMIN}/tenants"
LOG = f"{ADMIN}/conversations/whatsapp"
NEW_NUMBER = "+14155550122"


def _numbers(app: Harness, tenant_id: str) -> set[tuple[str, str]]:
    listed = {t["tenant_id"]: t["numbers"] for t in app.get(TENANTS).json()["tenants"]}
    return {(n["channel"], n["address"]) for n in listed.get(tenant_id, [])}


def _logged(app: Harness, tenant_id: str) -> list[object]:
    items: list[object] = app.get(LOG, tenant_id=tenant_id).json()["items"]
    return items


def test_tenant_endpoints_need_a_superuser(app: Harness) -> None:
    numbers = f"{TENANTS}/{TENANT_A}/numbers"
    body = {"number": NEW_NUMBER}
    for user, status in ((None, 401), ("alice", 403)):
        assert app.get(TENANTS, user=user).status_code == status
        assert app.post(TENANTS, {**body, "tenant_id": "t9"}, user=user).status_code == status
        assert app.post(numbers, body, user=user).status_code == status
        headers = {"Authorization": f"Bearer {user}"} if user else {}
        deleted = app.client.delete(numbers, params={"number": NUMBER_A}, headers=headers)
        assert deleted.status_code == status
    assert _numbers(app, TENANT_A) == {("whatsapp", NUMBER_A), ("sms", NUMBER_A)}


def test_the_list_shows_each_tenant_with_its_numbers_by_channel(app: Harness) -> None:
    tenants = app.get(TENANTS).json()["tenants"]
    assert [t["tenant_id"] for t in tenants] == [TENANT_A, TENANT_B]
    assert _numbers(app, TENANT_B) == {("whatsapp", NUMBER_B)}


@pytest.mark.parametrize(
    "number", ["+1415555", "whatsapp:+1415", "hello", "+1 415 555 0100 99", "ada@example.com", ""]
)
def test_a_typed_number_must_be_a_valid_phone_number(app: Harness, number: str) -> None:
    created = app.post(TENANTS, {"tenant_id": "t9", "number": number})
    assert created.status_code == 422
    assert "detail" in created.json()
    assert app.post(f"{TENANTS}/{TENANT_A}/numbers", {"number": number}).status_code == 422
    assert app.get(TENANTS).json()["tenants"][-1]["tenant_id"] == TENANT_B


def test_a_bad_tenant_id_or_body_is_422(app: Harness) -> None:
    assert app.post(TENANTS, {"tenant_id": "a b", "number": NEW_NUMBER}).status_code == 422
    assert app.post(TENANTS, {"number": NEW_NUMBER}).status_code == 422
    assert app.post(TENANTS, {"tenant_id": "t9", "number": NEW_NUMBER, "x": 1}).status_code == 422


def test_a_number_mapped_through_the_api_is_resolved_by_the_next_webhook(app: Harness) -> None:
    app.inbound("before", to=NEW_NUMBER)
    assert _logged(app, "t9") == []
    created = app.post(TENANTS, {"tenant_id": "t9", "number": f"whatsapp:{NEW_NUMBER}"})
    assert created.status_code == 200
    assert created.json()["numbers"] == [
        {"address": NEW_NUMBER, "channel": "whatsapp", "tenant_id": "t9", "user_id": None}
    ]
    assert app.inbound("after", to=NEW_NUMBER).status_code == 200
    assert len(_logged(app, "t9")) >= 1


def test_a_number_is_mapped_per_channel_and_released(app: Harness) -> None:
    numbers = f"{TENANTS}/{TENANT_B}/numbers"
    mapped = app.post(numbers, {"number": NUMBER_B, "user_id": "u1"})
    assert mapped.status_code == 200
    assert _numbers(app, TENANT_B) == {("whatsapp", NUMBER_B), ("sms", NUMBER_B)}
    released = app.client.delete(
        numbers, params={"number": f"whatsapp:{NUMBER_B}"}, headers={"Authorization": "Bearer root"}
    )
    assert released.status_code == 200
    assert _numbers(app, TENANT_B) == {("sms", NUMBER_B)}
    before = len(_logged(app, TENANT_B))
    app.inbound("nobody owns this now", to=NUMBER_B)
    assert len(_logged(app, TENANT_B)) == before


def test_conflicts_and_missing_numbers(app: Harness) -> None:
    taken = app.post(f"{TENANTS}/{TENANT_B}/numbers", {"number": f"whatsapp:{NUMBER_A}"})
    assert taken.status_code == 409
    again = app.post(TENANTS, {"tenant_id": TENANT_A, "number": NEW_NUMBER})
    assert again.status_code == 409
    assert app.post(TENANTS, {"tenant_id": "t9", "number": NUMBER_A}).status_code == 409
    missing = app.client.delete(
        f"{TENANTS}/{TENANT_B}/numbers",
        params={"number": NUMBER_A},
        headers={"Authorization": "Bearer root"},
    )
    assert missing.status_code == 404
    assert _numbers(app, TENANT_A) == {("whatsapp", NUMBER_A), ("sms", NUMBER_A)}
