"""``walker-channels briefs run-due`` on an SQLite file, printing instead of sending."""

from __future__ import annotations

import asyncio
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
