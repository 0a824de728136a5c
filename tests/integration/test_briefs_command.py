"""``walker-channels briefs run-due`` on an SQLite file, printing instead of sending."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from walker_channels.cli import main
from walker_channels.models import BriefSchedule
from walker_channels.sql import SqlStores

NOW = "2026-03-29T09:00:00+02:00"
SCHEDULE = BriefSchedule(
    tenant_id="t1",
    user_id="u1",
    recipient_email="ann@example.org",
    local_time=time(8, 0),
    timezone="Europe/Berlin",
    include_recommendations=False,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'walker.db'}"

    async def prepare() -> None:
        async with SqlStores.from_url(url) as stores:
            await stores.create_all()
            await stores.schedules.save(SCHEDULE)

    asyncio.run(prepare())
    monkeypatch.setenv("WALKER_DATABASE_URL", url)
    monkeypatch.setenv("WALKER_PSEUDONYM_KEY", "cli-test-key")
    return url


def database_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def query(url: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(database_file(url))
    try:
        with connection:
            return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def delete_brief_runs(url: str) -> int:
    """What an operator does to run the day's briefs again: forget the run rows."""
    connection = sqlite3.connect(database_file(url))
    try:
        with connection:
            return connection.execute("DELETE FROM walker_brief_runs").rowcount
    finally:
        connection.close()


def save(url: str, schedule: BriefSchedule) -> None:
    async def write() -> None:
        async with SqlStores.from_url(url) as stores:
            await stores.schedules.save(schedule)

    asyncio.run(write())


def claim_and_die(url: str, *, ago: timedelta) -> None:
    """A run-due process that claimed the day's run ``ago`` (real time) and died mid-send."""

    async def claim() -> None:
        async with SqlStores.from_url(url) as stores:
            claimed_at = datetime.now(UTC) - ago
            day = date(2026, 3, 29)
            assert await stores.schedules.claim_run(
                SCHEDULE.id, day, at=claimed_at, lease=timedelta(minutes=15)
            )

    asyncio.run(claim())


def test_due_briefs_are_sent_once_per_local_day(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = main(["briefs", "run-due", "--console", "--now", NOW])
    printed = capsys.readouterr().out
    second = main(["briefs", "run-due", "--console", "--now", NOW])

    assert (first, second) == (0, 0)
    assert "to=***@example.org" in printed
    assert "ann@" not in printed
    assert "checked 1 schedules: 1 sent, 0 failed, 0 abandoned, 0 skipped" in printed
    assert "0 sent, 0 failed, 0 abandoned, 1 skipped" in capsys.readouterr().out


def test_a_run_left_running_by_a_dead_process_is_taken_over_after_the_lease(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    claim_and_die(database, ago=timedelta(minutes=20))

    under_a_longer_lease = main(["briefs", "run-due", "--console", "--now", NOW, "--lease", "30"])
    skipped = capsys.readouterr().out
    under_the_default_lease = main(["briefs", "run-due", "--console", "--now", NOW])

    assert (under_a_longer_lease, under_the_default_lease) == (0, 0)
    assert "0 sent, 0 failed, 0 abandoned, 1 skipped" in skipped
    assert "1 sent, 0 failed, 0 abandoned, 0 skipped" in capsys.readouterr().out


def test_a_brief_that_cannot_be_sent_is_abandoned_for_the_day(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    save(database, SCHEDULE.replace(recipient_email="ann at example"))

    first = main(["briefs", "run-due", "--console", "--now", NOW])
    output = capsys.readouterr()
    second = main(["briefs", "run-due", "--console", "--now", NOW])

    assert (first, second) == (1, 0)
    assert "0 sent, 0 failed, 1 abandoned, 0 skipped" in output.out
    assert f"{SCHEDULE.id} 2026-03-29 abandoned: InvalidEmailAddress" in output.err
    assert "ann at example" not in output.err
    assert "0 sent, 0 failed, 0 abandoned, 1 skipped" in capsys.readouterr().out


def test_a_lease_must_be_a_positive_number_of_minutes(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["briefs", "run-due", "--console", "--lease", "0"])
    assert "--lease needs a positive number of minutes" in capsys.readouterr().err


def test_missing_settings_are_explained(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SMTP_HOST", raising=False)

    assert main(["briefs", "run-due", "--now", NOW]) == 2
    assert "set SMTP_HOST and SMTP_FROM" in capsys.readouterr().err

    monkeypatch.delenv("WALKER_PSEUDONYM_KEY")
    assert main(["briefs", "run-due", "--console"]) == 2
    assert "WALKER_PSEUDONYM_KEY" in capsys.readouterr().err


def test_a_rerun_after_the_run_row_was_deleted_sends_nothing_new(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = main(["briefs", "run-due", "--console", "--now", NOW])
    first_out = capsys.readouterr().out
    assert delete_brief_runs(database) == 1
    second = main(["briefs", "run-due", "--console", "--now", NOW])
    second_out = capsys.readouterr().out
    third = main(["briefs", "run-due", "--console", "--now", NOW])
    third_out = capsys.readouterr().out

    assert (first, second, third) == (0, 0, 0)
    assert first_out.count("[email] to=***@example.org") == 1
    assert "1 sent, 0 failed, 0 abandoned, 0 skipped" in first_out
    # The run row was gone, so the second call claimed the day again; the outbound ledger
    # still held the brief's key, so nothing reached the transport.
    assert "[email]" not in second_out
    assert "0 failed, 0 abandoned, 0 skipped" in second_out
    assert "[email]" not in third_out
    assert "0 sent, 0 failed, 0 abandoned, 1 skipped" in third_out
    ((key, state),) = query(database, "SELECT key, state FROM walker_outbound")
    assert (str(key).startswith("brief:t1:"), state) == (True, "sent")
    assert "ann@" not in str(key)
    ((event_key, stored),) = query(
        database, "SELECT idempotency_key, data FROM walker_events WHERE type = 'outbound'"
    )
    assert event_key == f"outbound:{key}"
    event = json.loads(str(stored))
    assert event["text"] == "Your daily brief for 2026-03-29"
    assert event["data"]["purpose"] == "daily_brief"
    assert query(database, "SELECT state FROM walker_brief_runs") == [("sent",)]


def write_template(directory: Path) -> Path:
    """A host template directory whose daily_brief replaces the built-in one."""
    directory.mkdir()
    (directory / "daily_brief.toml").write_text(
        'category = "brief"\n'
        'description = "Acme\'s own daily brief."\n'
        'subject = "Acme morning report"\n'
        'required_variables = ["recipient_name", "brief_date"]\n'
        "optional_variables = "
        '["analytics", "campaign_updates", "recommendations", "notes", "dashboard_url"]\n',
        encoding="utf-8",
    )
    (directory / "daily_brief.txt.j2").write_text(
        "Good morning {{ recipient_name }}, the Acme report for {{ brief_date }}.\n",
        encoding="utf-8",
    )
    return directory


def test_the_host_templates_from_walker_email_templates_are_used(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WALKER_EMAIL_TEMPLATES", str(write_template(tmp_path / "templates")))

    exit_code = main(["briefs", "run-due", "--console", "--now", NOW])

    printed = capsys.readouterr().out
    text = "Good morning there, the Acme report for 2026-03-29.\n"
    assert exit_code == 0
    assert f"subject='Acme morning report' text={len(text)} chars" in printed
    assert "Your daily brief" not in printed
    assert "html=no" in printed  # the host template has no HTML part
    assert "1 sent, 0 failed, 0 abandoned, 0 skipped" in printed
    ((stored,),) = query(database, "SELECT data FROM walker_events WHERE type = 'outbound'")
    assert json.loads(str(stored))["text"] == "Acme morning report"


def test_a_missing_walker_email_templates_directory_is_explained(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WALKER_EMAIL_TEMPLATES", str(tmp_path / "nowhere"))

    assert main(["briefs", "run-due", "--console", "--now", NOW]) == 2
    assert "does not exist" in capsys.readouterr().err
