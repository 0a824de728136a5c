"""``walker-channels briefs run-due`` on an SQLite file, printing instead of sending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from walker_channels.cli import main
from walker_channels.models import BriefSchedule
from walker_channels.sql import SqlStores

NOW = "2026-03-29T09:00:00+02:00"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'walker.db'}"
    schedule = BriefSchedule(
        tenant_id="t1",
        user_id="u1",
        recipient_email="ann@example.org",
        local_time=time(8, 0),
        timezone="Europe/Berlin",
        include_recommendations=False,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    async def prepare() -> None:
        async with SqlStores.from_url(url) as stores:
            await stores.create_all()
            await stores.schedules.save(schedule)

    asyncio.run(prepare())
    monkeypatch.setenv("WALKER_DATABASE_URL", url)
    monkeypatch.setenv("WALKER_PSEUDONYM_KEY", "cli-test-key")
    return url


def test_due_briefs_are_sent_once_per_local_day(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = main(["briefs", "run-due", "--console", "--now", NOW])
    printed = capsys.readouterr().out
    second = main(["briefs", "run-due", "--console", "--now", NOW])

    assert (first, second) == (0, 0)
    assert "to=***@example.org" in printed
    assert "ann@" not in printed
    assert "checked 1 schedules: 1 sent, 0 failed, 0 skipped" in printed
    assert "0 sent, 0 failed, 1 skipped" in capsys.readouterr().out


def test_missing_settings_are_explained(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SMTP_HOST", raising=False)

    assert main(["briefs", "run-due", "--now", NOW]) == 2
    assert "set SMTP_HOST and SMTP_FROM" in capsys.readouterr().err

    monkeypatch.delenv("WALKER_PSEUDONYM_KEY")
    assert main(["briefs", "run-due", "--console"]) == 2
    assert "WALKER_PSEUDONYM_KEY" in capsys.readouterr().err
