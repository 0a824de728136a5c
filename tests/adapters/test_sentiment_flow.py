"""Sentiment through both adapters, with the real VADER scorer: an upset person's message is
escalated or handed to a human, a happy one answered, and the admin figures average the
scores without a word of the messages."""

from __future__ import annotations

from typing import Any

import pytest
from web_harness import ADMIN, Harness, MakeApp

from walker_channels.sentiment import VaderScorer

UPSET = "This is the worst service ever. I am furious and nobody helps me!"
HAPPY = "Thank you so much, that was wonderful!"
QUEUE = f"{ADMIN}/hitl/review-queue"
CONVERSATIONS = f"{ADMIN}/conversations"
HOLDING_TEXT = "Thanks for your message. A member of our team will get back to you shortly."


@pytest.fixture
def escalating(make_app: MakeApp) -> Harness:
    return make_app(walker_sentiment="vader", walker_sentiment_threshold=-0.5)


def _conversation(app: Harness) -> dict[str, Any]:
    [conversation] = app.get(CONVERSATIONS).json()["items"]
    return dict(conversation)


def test_an_upset_message_goes_to_review_and_a_happy_one_is_answered(
    escalating: Harness,
) -> None:
    escalating.inbound(UPSET)
    [item] = escalating.get(QUEUE).json()["items"]
    assert (item["reason"], item["risk_level"]) == ("negative_sentiment", "high")
    assert [m.text for m in escalating.whatsapp.sent] == [HOLDING_TEXT]

    escalating.inbound(HAPPY)
    assert [m.text for m in escalating.whatsapp.sent][-1] == f"Echo: {HAPPY}"
    assert len(escalating.get(QUEUE).json()["items"]) == 1


def test_an_upset_message_hands_the_conversation_to_a_human(make_app: MakeApp) -> None:
    app = make_app(walker_sentiment="vader", walker_sentiment_action="handoff")
    app.inbound(UPSET)
    conversation = _conversation(app)
    assert (conversation["mode"], conversation["taken_by"]) == ("human", "system:sentiment")
    transcript = app.get(f"{CONVERSATIONS}/{conversation['id']}").json()["transcript"]
    assert [e["by"] for e in transcript if e["type"] == "handoff_started"] == ["system:sentiment"]
    assert app.whatsapp.sent == []


def test_a_happy_message_is_answered_with_the_handoff_action(make_app: MakeApp) -> None:
    app = make_app(walker_sentiment="vader", walker_sentiment_action="handoff")
    app.inbound(HAPPY)
    assert [m.text for m in app.whatsapp.sent] == [f"Echo: {HAPPY}"]
    assert _conversation(app)["mode"] == "agent"


def test_the_stats_average_the_scores_and_hold_no_text(escalating: Harness) -> None:
    escalating.inbound(HAPPY)
    escalating.inbound(UPSET)
    escalating.inbound(HAPPY)
    vader = VaderScorer()
    expected = (2 * vader.score(HAPPY) + vader.score(UPSET)) / 3

    stats = escalating.get(f"{ADMIN}/conversations/stats")
    agents = escalating.get(f"{ADMIN}/analytics/walker-agents")
    assert stats.json()["avg_sentiment"] == pytest.approx(expected)
    [agent] = agents.json()["agents"]
    # Every message was in the one session the echo agent answered in.
    assert (agent["agent_id"], agent["avg_sentiment"]) == ("echo", pytest.approx(expected))
    for response in (stats, agents):
        assert "furious" not in response.text
        assert "wonderful" not in response.text


def test_without_sentiment_no_average_is_shown(app: Harness) -> None:
    app.inbound(UPSET)
    assert app.get(f"{ADMIN}/conversations/stats").json()["avg_sentiment"] is None
    assert app.get(QUEUE).json()["items"] == []


def test_the_dashboard_shows_the_average_sentiment(escalating: Harness) -> None:
    escalating.inbound(HAPPY)
    expected = f"{VaderScorer().score(HAPPY):,.2f}"
    page = escalating.client.get("/console/dashboard", headers={"Authorization": "Bearer root"})
    assert page.status_code == 200
    assert f"<dt>Avg sentiment</dt><dd>{expected}</dd>" in page.text
    assert f"<td>{expected}</td>" in page.text  # the echo agent's row
