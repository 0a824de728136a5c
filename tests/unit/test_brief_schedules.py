"""Brief schedules: each brief once per local day, across DST changes and time zones."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from walker_channels.email import (
    BriefScheduler,
    DailyBriefService,
    EmailOutbox,
    RunOutcome,
    ScheduleBriefRequest,
    ScheduleNotFound,
    StaticBriefData,
    TemplateCatalog,
    due_date,
    scheduled_at,
)
from walker_channels.exceptions import InvalidEmailAddress, ProviderError
from walker_channels.models import BriefMetric, BriefRunState, BriefSchedule, Channel
from walker_channels.testing import (
    FixedClock,
    InMemoryBriefScheduleStore,
    InMemoryEventStore,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)


class BrokenData(StaticBriefData):
    """A host data source that fails with its own exception for one tenant."""

    async def analytics(self, tenant_id: str, user_id: str, day: date) -> Sequence[BriefMetric]:
        if tenant_id == "broken":
            raise KeyError("host bug")
        return await super().analytics(tenant_id, user_id, day)


class Kit:
    """A scheduler over in-memory stores and a recording transport."""

    def __init__(self, now: datetime = T0) -> None:
        self.clock = FixedClock(now)
        self.store = InMemoryBriefScheduleStore()
        self.transport = RecordingTransport(Channel.EMAIL)
        outbox = EmailOutbox(
            transport=self.transport,
            events=InMemoryEventStore(),
            clock=self.clock,
            pseudonym_key="k",
        )
        briefs = DailyBriefService(
            outbox=outbox,
            templates=TemplateCatalog(),
            data=BrokenData(),
            agent=None,
            clock=self.clock,
        )
        self.scheduler = BriefScheduler(store=self.store, briefs=briefs, clock=self.clock)

    async def schedule(
        self, at: time, zone: str = "Europe/Berlin", *, tenant: str = "t1", who: str = "ann"
    ) -> BriefSchedule:
        return await self.scheduler.save(
            ScheduleBriefRequest(
                tenant_id=tenant,
                user_id=who,
                recipient_email=f"{who}@example.org",
                local_time=at,
                timezone=zone,
                include_recommendations=False,
            )
        )

    async def sweep(self, start: datetime, end: datetime) -> list[tuple[datetime, str, date]]:
        """Call ``run_due`` every 15 minutes from ``start`` to ``end``; the briefs it sent."""
        sent = []
        moment = start
        while moment < end:
            self.clock.set(moment)
            report = await self.scheduler.run_due()
            sent += [
                (moment, run.schedule_id, run.local_date)
                for run in report.runs
                if run.outcome is RunOutcome.SENT
            ]
            moment += STEP
        return sent


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def test_a_brief_is_due_once_its_local_time_has_passed() -> None:
    schedule = await Kit().schedule(time(8, 0))

    assert due_date(schedule, utc(2026, 1, 15, 6, 59)) is None
    assert due_date(schedule, utc(2026, 1, 15, 7, 0)) == date(2026, 1, 15)
    assert due_date(schedule, utc(2026, 7, 15, 6, 0)) == date(2026, 7, 15)


async def test_the_same_local_time_moves_in_utc_across_the_spring_change() -> None:
    kit = Kit()
    schedule = await kit.schedule(time(8, 0))

    sent = await kit.sweep(T0, T0 + timedelta(days=3))

    assert sent == [
        (utc(2026, 3, 27, 7, 0), schedule.id, date(2026, 3, 27)),
        (utc(2026, 3, 28, 7, 0), schedule.id, date(2026, 3, 28)),
        (utc(2026, 3, 29, 6, 0), schedule.id, date(2026, 3, 29)),
    ]


async def test_a_time_skipped_by_spring_forward_still_runs_once() -> None:
    kit = Kit()
    schedule = await kit.schedule(time(2, 30))

    sent = await kit.sweep(utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 23, 0))

    # 02:30 does not exist in Berlin that night; it runs at 03:30 CEST, i.e. 01:30 UTC.
    assert scheduled_at(schedule, date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)
    assert sent == [(utc(2026, 3, 29, 1, 30), schedule.id, date(2026, 3, 29))]


async def test_a_time_repeated_by_the_autumn_change_runs_once() -> None:
    kit = Kit()
    schedule = await kit.schedule(time(2, 30))

    sent = await kit.sweep(utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 22, 0))

    # 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC: the first one counts.
    assert sent == [(utc(2026, 10, 25, 0, 30), schedule.id, date(2026, 10, 25))]


async def test_each_time_zone_gets_its_brief_at_its_own_local_time() -> None:
    kit = Kit()
    zones = {
        "Europe/Berlin": utc(2026, 3, 30, 6, 0),
        "America/New_York": utc(2026, 3, 30, 12, 0),
        "Asia/Tokyo": utc(2026, 3, 29, 23, 0),
        "Pacific/Kiritimati": utc(2026, 3, 29, 18, 0),
        "Pacific/Pago_Pago": utc(2026, 3, 30, 19, 0),
    }
    ids = {
        (await kit.schedule(time(8, 0), zone, who=f"u{n}")).id: zone for n, zone in enumerate(zones)
    }

    sent = await kit.sweep(utc(2026, 3, 29, 12, 0), utc(2026, 3, 30, 20, 0))

    on_march_30 = {ids[sid]: moment for moment, sid, day in sent if day == date(2026, 3, 30)}
    assert on_march_30 == zones
    assert len(sent) == len({(sid, day) for _, sid, day in sent})


async def test_calling_run_due_again_sends_nothing_more() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    await kit.schedule(time(8, 0))

    first = await kit.scheduler.run_due()
    second = await kit.scheduler.run_due()

    assert (first.count(RunOutcome.SENT), second.count(RunOutcome.SKIPPED)) == (1, 1)
    assert len(kit.transport.sent) == 1


async def test_concurrent_calls_send_each_brief_once() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    for n in range(3):
        await kit.schedule(time(8, 0), who=f"user{n}")

    reports = await asyncio.gather(*(kit.scheduler.run_due() for _ in range(5)))

    assert sum(report.count(RunOutcome.SENT) for report in reports) == 3
    assert len(kit.transport.sent) == 3


async def test_a_failed_run_is_recorded_and_retried_by_the_next_call() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    schedule = await kit.schedule(time(8, 0))
    kit.transport.fail_with(ProviderError("refused (SMTP 451)", retryable=True, code="451"))

    failed = await kit.scheduler.run_due()
    key = (schedule.id, date(2026, 3, 27))
    after_failure = (kit.store.runs[key], kit.store.errors[key])
    retried = await kit.scheduler.run_due()

    (run,) = failed.runs
    assert (run.outcome, run.error) == (RunOutcome.FAILED, "ProviderError: refused (SMTP 451)")
    assert after_failure == (BriefRunState.FAILED, "ProviderError: refused (SMTP 451)")
    assert retried.count(RunOutcome.SENT) == 1
    assert kit.store.runs[key] is BriefRunState.SENT


async def test_one_broken_schedule_does_not_stop_the_others() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    broken = await kit.schedule(time(8, 0), tenant="broken")
    await kit.schedule(time(8, 0))

    report = await kit.scheduler.run_due()

    assert report.count(RunOutcome.SENT) == 1
    (failure,) = [run for run in report.runs if run.outcome is RunOutcome.FAILED]
    assert (failure.schedule_id, failure.error) == (broken.id, "KeyError")
    assert kit.store.runs[(broken.id, date(2026, 3, 27))] is BriefRunState.FAILED


async def test_a_schedule_is_updated_in_place_and_only_by_its_tenant() -> None:
    kit = Kit()
    created = await kit.schedule(time(8, 0))
    kit.clock.advance(timedelta(hours=1))

    updated = await kit.scheduler.save(
        ScheduleBriefRequest(
            tenant_id="t1",
            user_id="ann",
            recipient_email="Ann@Example.org",
            local_time=time(9, 15),
            timezone="Asia/Tokyo",
            schedule_id=created.id,
        )
    )

    assert (updated.id, updated.created_at) == (created.id, created.created_at)
    assert (updated.local_time, updated.timezone) == (time(9, 15), "Asia/Tokyo")
    assert updated.recipient_email == "Ann@example.org"
    assert list(kit.store.schedules) == [created.id]
    with pytest.raises(ScheduleNotFound):
        await kit.scheduler.save(
            ScheduleBriefRequest.model_validate(
                {
                    **updated.model_dump(exclude={"id", "created_at"}),
                    "tenant_id": "t2",
                    "schedule_id": created.id,
                }
            )
        )


async def test_inactive_schedules_are_not_run() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    schedule = await kit.schedule(time(8, 0))
    await kit.scheduler.save(
        ScheduleBriefRequest.model_validate(
            {
                **schedule.model_dump(exclude={"id", "created_at"}),
                "active": False,
                "schedule_id": schedule.id,
            }
        )
    )

    report = await kit.scheduler.run_due()

    assert (report.checked, report.runs) == (0, ())


async def test_bad_time_zones_and_addresses_are_refused() -> None:
    with pytest.raises(ValidationError, match="IANA time zone"):
        ScheduleBriefRequest(
            tenant_id="t1",
            user_id="u",
            recipient_email="a@example.org",
            local_time=time(8),
            timezone="Mars/Olympus",
        )
    with pytest.raises(InvalidEmailAddress):
        await Kit().schedule(time(8, 0), who="not an address")
