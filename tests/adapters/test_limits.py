"""Body limits and hostile input, through both adapters: 413 before parsing, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_harness import (
    ADMIN,
    ADMIN_READS,
    EMAIL,
    SEND_WHATSAPP,
    STATUS,
    WEBHOOK,
    Harness,
    MakeApp,
    as_user,
    inbound_form,
    new_sid,
)

LIMIT = 2_000
POSTS = (
    WEBHOOK,
    STATUS,
    SEND_WHATSAPP,
    f"{EMAIL}/send",
    f"{EMAIL}/send-daily-brief",
    f"{EMAIL}/schedule-daily-brief",
    f"{ADMIN}/hitl/some-id/approve",
    f"{ADMIN}/hitl/some-id/reject",
)


@pytest.fixture
def small(make_app: MakeApp) -> Harness:
    """An app that accepts bodies of at most :data:`LIMIT` bytes."""
    return make_app(walker_max_body_bytes=LIMIT)


@pytest.mark.parametrize("path", POSTS)
def test_a_body_over_the_limit_is_413_before_anything_else(small: Harness, path: str) -> None:
    response = small.client.post(
        path,
        content=b"x" * (LIMIT + 1),
        headers={"Content-Type": "application/json", **as_user("root")},
    )

    assert response.status_code == 413
    assert str(LIMIT) in response.json()["detail"]


def test_a_signed_webhook_over_the_limit_is_413_and_not_processed(small: Harness) -> None:
    response = small.inbound("x" * LIMIT)

    assert response.status_code == 413
    assert small.whatsapp.sent == []


def test_a_body_at_the_limit_is_accepted(small: Harness) -> None:
    params = inbound_form("", sid=new_sid())
    _, body = small.signer.form_request("https://walker.example.com" + WEBHOOK, params)
    padding = LIMIT - len(body) - len("&Pad=")
    response = small.signed_post(WEBHOOK, {**params, "Pad": "p" * padding})

    assert response.status_code == 200


def test_a_streamed_body_over_the_limit_is_413(small: Harness) -> None:
    if small.adapter == "flask":
        pytest.skip("WSGI servers give an application no body without a Content-Length")

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 500

    response = small.client.post(SEND_WHATSAPP, content=chunks(), headers=as_user("root"))

    assert response.status_code == 413


def test_a_malformed_content_length_is_400(app: Harness) -> None:
    if app.adapter == "flask":
        pytest.skip("the WSGI transport recomputes Content-Length")
    response = app.client.post(
        SEND_WHATSAPP, content=b"{}", headers={"Content-Length": "-5", **as_user("root")}
    )

    assert response.status_code == 400


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(POSTS),
    body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
    ),
    user=st.sampled_from(["root", "alice", "nobody"]),
)
def test_no_posted_body_produces_a_server_error(
    app: Harness, path: str, body: bytes, content_type: str, user: str
) -> None:
    headers = {"Content-Type": content_type, **as_user(user)}

    response = app.client.post(path, content=body, headers=headers)

    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(ADMIN_READS),
    params=st.dictionaries(
        st.sampled_from(["start", "end", "tenant_id", "direction", "limit", "cursor", "offset"]),
        st.text(max_size=40),
        max_size=4,
    ),
)
def test_no_admin_query_produces_a_server_error(
    app: Harness, path: str, params: dict[str, str]
) -> None:
    response = app.get(path, **params)

    assert response.status_code in (200, 400, 422)
