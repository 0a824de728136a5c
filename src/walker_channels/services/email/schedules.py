"""Daily-brief schedules: saving them, and sending each due brief at most once per local day.

``run_due(now)`` may be called as often as one likes, from any number of processes: the
store's ``claim_run`` lets one caller per schedule and local date through. A run that failed
temporarily (an SMTP 4xx, a dropped connection, a bug in the host's data source) is recorded as
failed, and the next call claims it again (that is the retry). A run that failed permanently
(an SMTP 5xx, a refused or invalid recipient, a broken template: anything that the same brief
would meet again) is recorded as abandoned, with its error, and is not tried again that day.
A claim is leased: a run still marked running ``lease`` after its claim (its process died
mid-send) is taken over by the next call.

Daylight saving: a brief's instant is its local time on the local date, taken with the
offset in force *before* any change that day. So 02:30 on a spring-forward night (a time that
does not exist) runs at 03:30 summer time, and 02:30 on an autumn night (a time that happens
twice) runs at its first occurrence; either way once, as the claim is per local date.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from walker_channels.emails import validate_email_address
from walker_channels.exceptions import (
    ConfigurationError,
    InvalidInput,
    NotFound,
    TransportError,
    WalkerError,
)
from walker_channels.models import BriefRunState, BriefSchedule
from walker_channels.models.base import Frozen
from walker_channels.ports import BriefScheduleStore, Clock
from walker_channels.services.email.brief import DailyBriefRequest, DailyBriefService

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=15)
"""How long a claimed run may stay running before another ``run_due`` takes it over.

Well above the longest brief (the agent's timeout plus the SMTP transport's retries)."""


class ScheduleNotFound(NotFound):
    """No active schedule with that id is visible to the caller."""


class ScheduleBriefRequest(Frozen):
    """Create a schedule, or replace the active one with ``schedule_id`` (same tenant)."""

    tenant_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    recipient_email: str = Field(min_length=3, max_length=320, repr=False)
    local_time: time
    timezone: str = Field(min_length=1, examples=["Europe/Berlin"])
    include_analytics: bool = True
    include_campaign_updates: bool = True
    include_recommendations: bool = True
    active: bool = True
    schedule_id: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "timezone must be an IANA time zone name such as Europe/Berlin"
            ) from None
        return value


class RunOutcome(StrEnum):
    """What ``run_due`` did with one due schedule."""

    SENT = "sent"
    FAILED = "failed"
    """Temporarily: the next ``run_due`` tries again."""
    ABANDONED = "abandoned"
    """Permanently: not tried again that day (``error`` says why)."""
    SKIPPED = "skipped"
    """Another caller holds this day's run, or it was sent or abandoned already."""


class ScheduleRun(Frozen):
    """One due schedule in a ``run_due`` call."""

    schedule_id: str
    local_date: date
    outcome: RunOutcome
    provider_message_id: str | None = None
    error: str = ""


class RunDueReport(Frozen):
    """What one ``run_due`` call found and did."""

    checked: int
    runs: tuple[ScheduleRun, ...] = ()

    def count(self, outcome: RunOutcome) -> int:
        """How many due schedules ended with ``outcome``."""
        return sum(run.outcome is outcome for run in self.runs)


def scheduled_at(schedule: BriefSchedule, day: date) -> datetime:
    """The instant (UTC) of ``schedule``'s run on local date ``day`` (see the module notes)."""
    local = datetime.combine(day, schedule.local_time, tzinfo=ZoneInfo(schedule.timezone))
    return local.replace(fold=0).astimezone(UTC)


def due_date(schedule: BriefSchedule, now: datetime) -> date | None:
    """The local date whose brief is due at ``now``, or ``None`` before today's local time."""
    today = now.astimezone(ZoneInfo(schedule.timezone)).date()
    # Compared in UTC: aware datetimes sharing one tzinfo compare by wall time, ignoring fold.
    return today if now.astimezone(UTC) >= scheduled_at(schedule, today) else None


class BriefScheduler:
    """Saves schedules and sends the briefs that are due (``concurrency`` at a time).

    ``lease`` is how long a claimed run may stay running before another caller takes it over;
    it must be longer than sending one brief can take.
    """

    def __init__(
        self,
        *,
        store: BriefScheduleStore,
        briefs: DailyBriefService,
        clock: Clock,
        concurrency: int = 4,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if lease <= timedelta(0):
            raise ConfigurationError("the brief run lease must be positive")
        self._store = store
        self._briefs = briefs
        self._clock = clock
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._lease = lease

    async def save(self, request: ScheduleBriefRequest) -> BriefSchedule:
        """Create the schedule, or replace the active one named by ``schedule_id``."""
        recipient = validate_email_address(request.recipient_email)
        fields = request.model_dump(exclude={"schedule_id"})
        fields["recipient_email"] = recipient
        if request.schedule_id is None:
            schedule = BriefSchedule(**fields, created_at=self._clock.now())
        else:
            existing = await self._active(request.schedule_id, request.tenant_id)
            schedule = BriefSchedule(**fields, id=existing.id, created_at=existing.created_at)
        await self._store.save(schedule)
        return schedule

    async def run_due(self, now: datetime | None = None) -> RunDueReport:
        """Send every brief due at ``now`` (default: the clock) that nobody has claimed."""
        moment = now or self._clock.now()
        schedules = await self._store.list_active()
        due = [(s, day) for s in schedules if (day := due_date(s, moment)) is not None]
        runs = await asyncio.gather(*(self._run(s, day) for s, day in due))
        return RunDueReport(checked=len(schedules), runs=tuple(runs))

    async def _run(self, schedule: BriefSchedule, day: date) -> ScheduleRun:
        async with self._limit:
            # The clock, not run_due's ``now``: the lease counts from when this worker really
            # claimed the run, not from when it started waiting for its turn.
            claimed_at = self._clock.now()
            if not await self._store.claim_run(schedule.id, day, at=claimed_at, lease=self._lease):
                return ScheduleRun(
                    schedule_id=schedule.id, local_date=day, outcome=RunOutcome.SKIPPED
                )
            run = await self._send(schedule, day)
            await self._finish(run, claimed_at)
            return run

    async def _send(self, schedule: BriefSchedule, day: date) -> ScheduleRun:
        try:
            receipt = await self._briefs.send(
                _brief_request(schedule), day=day, idempotency_key=run_key(schedule.id, day)
            )
        except WalkerError as exc:
            outcome = RunOutcome.ABANDONED if _is_permanent(exc) else RunOutcome.FAILED
            return _unsent(schedule, day, outcome, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            # Host code (the data source) broke its contract. The run is recorded as failed,
            # so the next call retries it, and the other schedules still get their briefs.
            log.exception("daily brief %s failed unexpectedly", schedule.id)
            return _unsent(schedule, day, RunOutcome.FAILED, type(exc).__name__)
        return ScheduleRun(
            schedule_id=schedule.id,
            local_date=day,
            outcome=RunOutcome.SENT,
            provider_message_id=receipt.provider_message_id,
        )

    async def _finish(self, run: ScheduleRun, claimed_at: datetime) -> None:
        recorded = await self._store.finish_run(
            run.schedule_id,
            run.local_date,
            claimed_at=claimed_at,
            state=_RUN_STATES[run.outcome],
            at=self._clock.now(),
            error=run.error,
        )
        if not recorded:
            # Another caller took the run over: its outcome is the one that counts.
            log.warning(
                "daily brief %s for %s outlived its lease of %s and was taken over",
                run.schedule_id,
                run.local_date,
                self._lease,
            )

    async def _active(self, schedule_id: str, tenant_id: str) -> BriefSchedule:
        for schedule in await self._store.list_active():
            if schedule.id == schedule_id and schedule.tenant_id == tenant_id:
                return schedule
        raise ScheduleNotFound("no active daily-brief schedule with that id for this tenant")


def run_key(schedule_id: str, day: date) -> str:
    """The idempotency key of a schedule's brief on local date ``day``."""
    return f"brief:{schedule_id}:{day.isoformat()}"


_RUN_STATES = {
    RunOutcome.SENT: BriefRunState.SENT,
    RunOutcome.FAILED: BriefRunState.FAILED,
    RunOutcome.ABANDONED: BriefRunState.ABANDONED,
}


def _is_permanent(exc: WalkerError) -> bool:
    """Whether sending the same brief again today would meet the same error.

    A transport says so with ``retryable`` (SMTP 5xx, a refused recipient; also
    ``DeliveryUnknown``, which must never be resent blindly). Invalid input (the stored
    address, the template) does not mend itself either. Anything else is worth a retry.
    """
    if isinstance(exc, TransportError):
        return not exc.retryable
    return isinstance(exc, InvalidInput)


def _unsent(schedule: BriefSchedule, day: date, outcome: RunOutcome, error: str) -> ScheduleRun:
    return ScheduleRun(schedule_id=schedule.id, local_date=day, outcome=outcome, error=error)


def _brief_request(schedule: BriefSchedule) -> DailyBriefRequest:
    return DailyBriefRequest(
        user_id=schedule.user_id,
        tenant_id=schedule.tenant_id,
        recipient_email=schedule.recipient_email,
        include_analytics=schedule.include_analytics,
        include_campaign_updates=schedule.include_campaign_updates,
        include_recommendations=schedule.include_recommendations,
    )
