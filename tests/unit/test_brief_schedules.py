"""Brief schedules: each brief once per local day, across DST changes and time zones; a run
whose process died is taken over after its lease; a permanent failure is not retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from walker_channels.exceptions import ConfigurationError, InvalidEmailAddress, ProviderError
from walker_channels.models import (
    BriefMetric,
    BriefRunState,
    BriefSchedule,
    Channel,
    OutboundMessage,
    OutboundState,
    SendResult,
)
from walker_channels.services import OutboundSender, ServiceConfig
from walker_channels.services.email import (
    BriefScheduler,
    DailyBriefService,
    RunDueReport,
    RunOutcome,
    ScheduleBriefRequest,
    ScheduleNotFound,
    StaticBriefData,
    TemplateCatalog,
    due_date,
    scheduled_at,
)
from walker_channels.testing import (
    FixedClock,
    InMemoryBriefScheduleStore,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)
LEASE = timedelta(minutes=15)


class BrokenData(StaticBriefData):
    """A host data source that fails with its own exception for one tenant.

    ``stop_with`` makes the next brief stop while its data is gathered (before it reaches the
    outbound ledger); ``meanwhile`` (another caller) runs first in the next gathering, which
    then fails.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stops: list[BaseException] = []
        self.meanwhile: Callable[[], Awaitable[object]] | None = None

    def stop_with(self, error: BaseException) -> None:
        self.stops.append(error)

    async def analytics(self, tenant_id: str, user_id: str, day: date) -> Sequence[BriefMetric]:
        if self.stops:
            raise self.stops.pop(0)
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
            raise TimeoutError("the host's analytics timed out")
        if tenant_id == "broken":
            raise KeyError("host bug")
        return await super().analytics(tenant_id, user_id, day)


class StallingTransport(RecordingTransport):
    """Its next send outlives the run's lease: ``meanwhile`` (another caller) runs first, then
    the send fails temporarily."""

    def __init__(self) -> None:
        super().__init__(Channel.EMAIL)
        self.meanwhile: Callable[[], Awaitable[object]] | None = None

    async def send(self, message: OutboundMessage) -> SendResult:
        if self.meanwhile is None:
            return await super().send(message)
        meanwhile, self.meanwhile = self.meanwhile, None
        await meanwhile()
        raise ProviderError("timed out (SMTP 421)", retryable=True, code="421")


class Kit:
    """A scheduler over in-memory stores and a recording transport."""

    def __init__(self, now: datetime = T0, *, transport: RecordingTransport | None = None) -> None:
        self.clock = FixedClock(now)
        self.store = InMemoryBriefScheduleStore()
        self.transport = transport or RecordingTransport(Channel.EMAIL)
        self.data = BrokenData()
        self.ledger = InMemoryOutboundLedger()
        sender = OutboundSender(
            transports={Channel.EMAIL: self.transport},
            ledger=self.ledger,
            clock=self.clock,
            config=ServiceConfig(pseudonym_key="k"),
        )
        self.briefs = briefs = DailyBriefService(
            sender=sender,
            templates=TemplateCatalog(),
            data=self.data,
            agent=None,
            clock=self.clock,
        )
        self.scheduler = BriefScheduler(
            store=self.store, briefs=briefs, clock=self.clock, lease=LEASE
        )

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


async def test_a_permanent_failure_is_recorded_and_not_retried_that_day() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    schedule = await kit.schedule(time(8, 0))
    refused = "ProviderError: the SMTP server refused the recipient (SMTP 550)"
    kit.transport.fail_with(
        ProviderError("the SMTP server refused the recipient (SMTP 550)", retryable=False)
    )

    failed = await kit.scheduler.run_due()
    kit.clock.advance(timedelta(hours=2))
    later = await kit.scheduler.run_due()
    kit.clock.set(utc(2026, 3, 28, 9, 0))
    next_day = await kit.scheduler.run_due()

    (run,) = failed.runs
    assert (run.outcome, run.error) == (RunOutcome.ABANDONED, refused)
    key = (schedule.id, date(2026, 3, 27))
    assert (kit.store.runs[key], kit.store.errors[key]) == (BriefRunState.ABANDONED, refused)
    assert later.count(RunOutcome.SKIPPED) == 1
    assert next_day.count(RunOutcome.SENT) == 1
    assert len(kit.transport.sent) == 1


async def test_an_address_that_is_no_longer_valid_is_abandoned() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    stored = (await kit.schedule(time(8, 0))).replace(recipient_email="ann at example")
    await kit.store.save(stored)  # written by an older version, or straight into the store

    report = await kit.scheduler.run_due()

    (run,) = report.runs
    assert run.outcome is RunOutcome.ABANDONED
    assert run.error.startswith("InvalidEmailAddress: ")
    assert (await kit.scheduler.run_due()).count(RunOutcome.SKIPPED) == 1


async def test_a_run_left_running_is_taken_over_once_its_lease_has_run_out() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    schedule = await kit.schedule(time(8, 0))
    key = (schedule.id, date(2026, 3, 27))
    # The process is stopped while it builds the brief, before the send is reserved in the
    # outbound ledger (a stop after that is the next tests' case).
    kit.data.stop_with(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await kit.scheduler.run_due()

    kit.clock.set(utc(2026, 3, 27, 9, 15) - timedelta(seconds=1))
    within_lease = await kit.scheduler.run_due()
    state_within_lease = kit.store.runs[key]
    kit.clock.set(utc(2026, 3, 27, 9, 15))
    after_lease = await kit.scheduler.run_due()

    assert within_lease.count(RunOutcome.SKIPPED) == 1
    assert state_within_lease is BriefRunState.RUNNING
    assert after_lease.count(RunOutcome.SENT) == 1
    assert kit.store.runs[key] is BriefRunState.SENT
    assert len(kit.transport.sent) == 1


async def test_concurrent_calls_after_the_lease_take_the_run_over_once() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    await kit.schedule(time(8, 0))
    kit.data.stop_with(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await kit.scheduler.run_due()
    kit.clock.advance(2 * LEASE)

    reports = await asyncio.gather(*(kit.scheduler.run_due() for _ in range(5)))

    assert sum(report.count(RunOutcome.SENT) for report in reports) == 1
    assert len(kit.transport.sent) == 1


async def stopped_mid_send(kit: Kit) -> tuple[date, RunDueReport]:
    """A run whose process was stopped after its send was reserved, then one after the lease."""
    day = date(2026, 3, 27)
    kit.transport.fail_with(asyncio.CancelledError())  # stopped inside the transport
    with pytest.raises(asyncio.CancelledError):
        await kit.scheduler.run_due()
    kit.clock.advance(LEASE)
    return day, await kit.scheduler.run_due()


async def test_a_send_stopped_midway_is_not_repeated_blindly_after_the_lease() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    await kit.schedule(time(8, 0))

    _, after_lease = await stopped_mid_send(kit)

    # Whether the stopped send reached the SMTP server is unknown: the ledger keeps the key.
    (run,) = after_lease.runs
    assert run.outcome is not RunOutcome.SKIPPED  # the run was taken over ...
    assert kit.transport.sent == []  # ... but the brief was not sent a second time
    (record,) = kit.ledger.records.values()
    assert record.state is OutboundState.PENDING


async def test_a_takeover_that_sent_nothing_is_not_reported_as_sent() -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    schedule = await kit.schedule(time(8, 0))

    day, after_lease = await stopped_mid_send(kit)

    (run,) = after_lease.runs
    assert run.outcome is not RunOutcome.SENT
    assert kit.store.runs[(schedule.id, day)] is not BriefRunState.SENT


async def test_a_worker_that_outlived_its_lease_leaves_the_outcome_to_the_one_that_took_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kit = Kit(utc(2026, 3, 27, 9, 0))
    schedule = await kit.schedule(time(8, 0))
    takeovers: list[RunDueReport] = []

    async def another_caller_after_the_lease() -> None:
        kit.clock.advance(LEASE)
        takeovers.append(await kit.scheduler.run_due())

    # The first worker stalls while it builds the brief (before the outbound ledger).
    kit.data.meanwhile = another_caller_after_the_lease
    with caplog.at_level(logging.WARNING, logger="walker_channels.services.email.schedules"):
        stalled = await kit.scheduler.run_due()

    assert stalled.count(RunOutcome.FAILED) == 1
    assert takeovers[0].count(RunOutcome.SENT) == 1
    assert len(kit.transport.sent) == 1
    assert kit.store.runs[(schedule.id, date(2026, 3, 27))] is BriefRunState.SENT
    assert "outlived its lease" in caplog.text
    assert (await kit.scheduler.run_due()).count(RunOutcome.SKIPPED) == 1


async def test_a_takeover_does_not_send_while_the_stalled_send_is_in_flight() -> None:
    transport = StallingTransport()
    kit = Kit(utc(2026, 3, 27, 9, 0), transport=transport)
    await kit.schedule(time(8, 0))
    sent_by_the_takeover: list[int] = []

    async def another_caller_after_the_lease() -> None:
        kit.clock.advance(LEASE)
        await kit.scheduler.run_due()
        sent_by_the_takeover.append(len(transport.sent))

    transport.meanwhile = another_caller_after_the_lease
    stalled = await kit.scheduler.run_due()

    assert stalled.count(RunOutcome.FAILED) == 1
    assert sent_by_the_takeover == [0]
    (record,) = kit.ledger.records.values()
    assert record.state is OutboundState.FAILED  # the stalled send was refused (SMTP 421)


async def test_a_brief_whose_stalled_send_failed_after_a_takeover_still_goes_out() -> None:
    transport = StallingTransport()
    kit = Kit(utc(2026, 3, 27, 9, 0), transport=transport)
    schedule = await kit.schedule(time(8, 0))

    async def another_caller_after_the_lease() -> None:
        kit.clock.advance(LEASE)
        await kit.scheduler.run_due()

    transport.meanwhile = another_caller_after_the_lease
    await kit.scheduler.run_due()
    kit.clock.advance(STEP)
    retried = await kit.scheduler.run_due()

    assert retried.count(RunOutcome.SENT) == 1
    assert len(transport.sent) == 1
    assert kit.store.runs[(schedule.id, date(2026, 3, 27))] is BriefRunState.SENT


async def test_a_lease_must_be_positive() -> None:
    kit = Kit()
    with pytest.raises(ConfigurationError, match="lease must be positive"):
        BriefScheduler(store=kit.store, briefs=kit.briefs, clock=kit.clock, lease=timedelta(0))


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
