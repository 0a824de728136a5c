"""Admin monitoring and human review, through both adapters: superusers only, anonymised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from web_harness import (
    ADMIN,
    ADMIN_READS,
    NUMBER_A,
    NUMBER_B,
    PERSON,
    PERSON_EMAIL,
    TENANT_A,
    Harness,
)

from walker_channels.models import Channel, OutboundEvent

LOG = f"{ADMIN}/conversations/whatsapp"
QUEUE = f"{ADMIN}/hitl/review-queue"
HOLDING = "Thanks for your message. A member of our team will get back to you shortly."


def escalate(app: Harness, text: str = "I want a refund") -> str:
    """Send a message the agent is unsure about; return the id of the draft it caused."""
    app.inbound(text)
    [item] = app.get(QUEUE).json()["items"]
    return str(item["approval_id"])


def decide(
    app: Harness, approval_id: str, action: str, user: str | None = "root", **body: object
) -> httpx.Response:
    """POST approve or reject for ``approval_id``."""
    return app.post(f"{ADMIN}/hitl/{approval_id}/{action}", body or None, user=user)


@pytest.mark.parametrize("path", ADMIN_READS)
def test_admin_reads_need_a_superuser(app: Harness, path: str) -> None:
    assert app.get(path, user=None).status_code == 401
    assert app.get(path, user="alice").status_code == 403
    assert app.get(path, user="root").status_code == 200


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_review_decisions_need_a_superuser(app: Harness, action: str) -> None:
    approval_id = escalate(app)

    assert decide(app, approval_id, action, user=None).status_code == 401
    assert decide(app, approval_id, action, user="alice").status_code == 403
    assert app.get(QUEUE).json()["items"] != []


def test_an_unsure_reply_is_held_for_review_and_the_person_gets_the_holding_message(
    app: Harness,
) -> None:
    approval_id = escalate(app)

    [item] = app.get(QUEUE).json()["items"]
    assert item["approval_id"] == approval_id
    assert item["preview"] == "Echo: I want a refund"
    assert item["sla_status"] == "on_track"
    assert [m.text for m in app.whatsapp.sent] == [HOLDING]


def test_approving_sends_the_draft_once_and_a_second_approval_is_a_conflict(app: Harness) -> None:
    approval_id = escalate(app)

    first = decide(app, approval_id, "approve")
    second = decide(app, approval_id, "approve")

    assert first.status_code == 200
    assert first.json()["status"] == "approved"
    assert second.status_code == 409
    assert [m.text for m in app.whatsapp.sent] == [HOLDING, "Echo: I want a refund"]
    assert app.get(QUEUE).json()["items"] == []


def test_a_reviewer_may_edit_the_draft_before_approving(app: Harness) -> None:
    approval_id = escalate(app)

    response = decide(app, approval_id, "approve", text="Your refund is on its way.")

    assert response.status_code == 200
    assert app.whatsapp.sent[-1].text == "Your refund is on its way."


def test_rejecting_with_a_fallback_sends_it_and_a_later_approval_is_a_conflict(
    app: Harness,
) -> None:
    approval_id = escalate(app)

    rejected = decide(app, approval_id, "reject", fallback_text="A colleague will call you.")

    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert app.whatsapp.sent[-1].text == "A colleague will call you."
    assert decide(app, approval_id, "approve").status_code == 409


def test_deciding_an_unknown_draft_is_404(app: Harness) -> None:
    assert decide(app, "no-such-approval", "approve").status_code == 404
    assert decide(app, "no-such-approval", "reject").status_code == 404


def test_an_empty_edit_is_refused(app: Harness) -> None:
    approval_id = escalate(app)

    assert decide(app, approval_id, "approve", text="").status_code == 422
    assert len(app.whatsapp.sent) == 1


def test_no_admin_answer_contains_a_phone_number_or_an_email_address(app: Harness) -> None:
    app.inbound(f"my email is {PERSON_EMAIL} and my number {PERSON}")
    app.inbound(f"I want a refund, call {PERSON} or mail {PERSON_EMAIL}")
    app.inbound("hello", to=NUMBER_B)

    answers = [app.get(path).text for path in ADMIN_READS]

    assert all(answer.startswith("{") for answer in answers)
    for answer in answers:
        for secret in (PERSON, PERSON.removeprefix("+"), PERSON_EMAIL, NUMBER_A, NUMBER_B):
            assert secret not in answer


def test_the_log_pages_with_a_cursor_and_filters_by_tenant_and_direction(app: Harness) -> None:
    for text in ("one", "two", "three"):
        app.inbound(text)

    first = app.get(LOG, limit=4).json()
    second = app.get(LOG, limit=4, cursor=first["next_cursor"]).json()
    inbound_only = app.get(LOG, direction="inbound").json()["items"]

    assert len(first["items"]) + len(second["items"]) == 6
    assert second["next_cursor"] is None
    assert {item["direction"] for item in inbound_only} == {"inbound"}
    assert app.get(LOG, tenant_id="tenant-b").json()["items"] == []


def test_stats_and_agent_analytics_count_the_conversation(app: Harness) -> None:
    app.inbound("hello")
    escalate(app)

    stats = app.get(f"{ADMIN}/conversations/stats").json()
    [agent] = app.get(f"{ADMIN}/analytics/walker-agents").json()["agents"]

    assert (stats["inbound_total"], stats["outbound_total"], stats["escalated_total"]) == (2, 2, 1)
    assert agent["agent_id"] == "echo"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (LOG, {"start": "yesterday"}, 422),
        (LOG, {"start": "2025-01-01T00:00:00"}, 422),
        (LOG, {"limit": "0"}, 422),
        (LOG, {"limit": "many"}, 422),
        (LOG, {"direction": "sideways"}, 422),
        (LOG, {"cursor": "not-a-cursor"}, 400),
        (LOG, {"tenant": "typo"}, 422),
        (f"{ADMIN}/conversations/stats", {"channel": "Pigeon post"}, 422),
        (QUEUE, {"offset": "-1"}, 422),
    ],
)
def test_invalid_admin_queries_are_refused_with_a_clear_detail(
    app: Harness, path: str, params: dict[str, str], status: int
) -> None:
    response = app.get(path, **params)

    assert response.status_code == status
    assert response.json()["detail"]


def test_stats_and_analytics_without_a_start_cover_the_last_30_days(app: Harness) -> None:
    old = datetime.now(UTC) - timedelta(days=45)
    app.run(lambda: app.services.stores.events.append(_old_reply(old)))
    escalate(app)

    recent = app.get(f"{ADMIN}/conversations/stats").json()
    since = {"start": (old - timedelta(days=1)).isoformat()}
    everything = app.get(f"{ADMIN}/conversations/stats", **since).json()
    agents = app.get(f"{ADMIN}/analytics/walker-agents").json()["agents"]
    all_agents = app.get(f"{ADMIN}/analytics/walker-agents", **since).json()["agents"]

    assert (recent["inbound_total"], recent["outbound_total"]) == (1, 1)
    assert (everything["inbound_total"], everything["outbound_total"]) == (1, 2)
    assert [agent["agent_id"] for agent in agents] == ["echo"]
    assert sorted(agent["agent_id"] for agent in all_agents) == ["echo", "retired-agent"]


def _old_reply(at: datetime) -> OutboundEvent:
    return OutboundEvent(
        tenant_id=TENANT_A,
        channel=Channel.WHATSAPP,
        participant="old-pseudonym",
        occurred_at=at,
        agent_id="retired-agent",
        text="An answer from last season.",
    )
