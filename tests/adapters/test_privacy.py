"""Erasure and retention through both adapters: superusers only, nothing of the person left."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import sqlalchemy as sa
from web_harness import ADMIN, PERSON, TENANT_A, TENANT_B, Harness, MakeApp

from walker_channels.models import Channel, InboundEvent, OutboundEvent, RetentionReport
from walker_channels.sql import SqlStores, metadata

ERASURE = f"{ADMIN}/erasure"
LOG = f"{ADMIN}/conversations/whatsapp"
STATS = f"{ADMIN}/conversations/stats"
QUEUE = f"{ADMIN}/hitl/review-queue"
BOB = "+14155550199"
LONG_AGO = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def _rows(app: Harness) -> list[str]:
    """Every row of every walker table, as JSON text."""
    stores = cast(SqlStores, app.services.stores)

    def dump(conn: sa.Connection) -> list[str]:
        return [
            json.dumps(dict(row), default=str)
            for table in metadata.sorted_tables
            for row in conn.execute(sa.select(table)).mappings()
        ]

    async def read() -> list[str]:
        async with stores.engine.connect() as conn:
            return await conn.run_sync(dump)

    return cast(list[str], app.run(read))


def test_erasure_needs_a_superuser(app: Harness) -> None:
    body = {"participant": PERSON, "tenant_id": TENANT_A}
    assert app.post(ERASURE, body, user=None).status_code == 401
    assert app.post(ERASURE, body, user="alice").status_code == 403


def test_erasure_removes_the_person_everywhere_and_answers_the_record(app: Harness) -> None:
    app.inbound("hello, I am Ada Lovelace")
    app.inbound("I want a refund")  # held for review
    app.inbound("hello from Bob", sender=BOB)
    ada = app.services.config.pseudonym(PERSON)

    answer = app.post(ERASURE, {"participant": f"whatsapp:{PERSON}", "tenant_id": TENANT_A})

    assert answer.status_code == 200
    record = answer.json()
    assert (record["participant"], record["tenant_id"], record["requested_by"]) == (
        ada,
        TENANT_A,
        "root",
    )
    assert record["removed"]["events"] >= 4
    assert record["removed"]["approvals"] == 1
    assert PERSON not in answer.text
    assert PERSON.removeprefix("+") not in answer.text
    rows = "\n".join(_rows(app))
    for secret in (PERSON, PERSON.removeprefix("+"), "Ada Lovelace", "refund", f":{ada}:"):
        assert secret not in rows, secret
    assert "hello from Bob" in rows
    assert app.get(QUEUE).json()["items"] == []
    people = {entry["participant"] for entry in app.get(LOG).json()["items"]}
    assert people == {app.services.config.pseudonym(BOB)}


def test_erasure_in_one_tenant_keeps_the_person_in_another(app: Harness) -> None:
    app.inbound("hello, I am Ada Lovelace")

    answer = app.post(ERASURE, {"participant": PERSON, "tenant_id": TENANT_B})

    assert answer.status_code == 200
    assert sum(answer.json()["removed"].values()) == 0
    assert len(app.get(LOG, tenant_id=TENANT_A).json()["items"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"participant": "not a number", "tenant_id": TENANT_A},
        {"participant": "ada@", "tenant_id": TENANT_A},
        {"participant": PERSON},
        {"participant": PERSON, "tenant_id": ""},
        {"participant": PERSON, "tenant_id": TENANT_A, "extra": 1},
    ],
)
def test_a_bad_erasure_request_is_refused_with_a_detail(
    app: Harness, body: dict[str, object]
) -> None:
    answer = app.post(ERASURE, body)

    assert answer.status_code == 422
    assert answer.json()["detail"]
    assert "not a number" not in answer.text


def test_the_retention_purge_blanks_old_text_and_the_admin_stats_stay_the_same(
    make_app: MakeApp,
) -> None:
    app = make_app(walker_retention_days=30, walker_sweep_interval=0)  # the purge runs here
    ada = app.services.config.pseudonym(PERSON)
    old = [
        InboundEvent(
            tenant_id=TENANT_A,
            channel=Channel.WHATSAPP,
            participant=ada,
            occurred_at=LONG_AGO,
            text="my card number is 4111 1111",
        ),
        OutboundEvent(
            tenant_id=TENANT_A,
            channel=Channel.WHATSAPP,
            participant=ada,
            occurred_at=LONG_AGO + timedelta(seconds=2),
            agent_id="support",
            confidence=0.9,
            response_time_ms=850.0,
            text="thanks, noted",
        ),
    ]
    for event in old:
        app.run(lambda event=event: app.services.stores.events.append(event))
    app.inbound("hello today")
    window = {"start": (LONG_AGO - timedelta(days=1)).isoformat(), "end": _tomorrow()}
    before = app.get(STATS, **window).json()

    report = app.run(app.services.privacy.purge)

    assert report == RetentionReport(events=2)
    assert app.get(STATS, **window).json() == before
    previews = [entry["preview"] for entry in app.get(LOG, **window).json()["items"]]
    assert sorted(previews) == ["", "", "Echo: hello today", "hello today"]
    assert "4111" not in "\n".join(_rows(app))


def _tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()
