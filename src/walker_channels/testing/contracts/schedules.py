"""The :class:`~walker_channels.ports.BriefScheduleStore` contract."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest

from walker_channels.models import BriefRunState, BriefSchedule
from walker_channels.ports import BriefScheduleStore
from walker_channels.testing.contracts.common import T0

DAY = date(2026, 1, 5)
"""The local date whose run the schedule suite claims."""
LEASE = timedelta(minutes=15)
LONG_AFTER = T0 + timedelta(days=1)
"""Long after any lease has run out (the local date's run is still the one claimed)."""


def brief_schedule(*, at: datetime = T0, active: bool = True) -> BriefSchedule:
    """A schedule for the suites."""
    return BriefSchedule(
        tenant_id="t1",
        user_id="u1",
        recipient_email="ops@example.com",
        local_time=datetime(2026, 1, 1, 8).time(),
        timezone="Europe/Berlin",
        created_at=at,
        active=active,
    )


@pytest.mark.anyio
class BriefScheduleStoreContract:
    """Provide an empty store as the ``brief_schedule_store`` fixture."""

    @pytest.fixture
    def brief_schedule_store(self) -> BriefScheduleStore:
        """Override: an empty BriefScheduleStore."""
        raise NotImplementedError

    async def test_saved_active_schedules_are_listed(
        self, brief_schedule_store: BriefScheduleStore
    ) -> None:
        active, inactive = brief_schedule(), brief_schedule(active=False)
        await brief_schedule_store.save(active)
        await brief_schedule_store.save(inactive)
        await brief_schedule_store.save(active.replace(local_time=datetime(2026, 1, 1, 9).time()))
        listed = await brief_schedule_store.list_active()
        assert [(s.id, s.local_time.hour) for s in listed] == [(active.id, 9)]

    async def test_a_day_is_claimed_once(self, brief_schedule_store: BriefScheduleStore) -> None:
        schedule = await self._saved(brief_schedule_store)
        day = date(2026, 1, 5)
        assert await self._claim(brief_schedule_store, schedule.id, day) is True
        assert await self._claim(brief_schedule_store, schedule.id, day) is False
        assert await self._claim(brief_schedule_store, schedule.id, date(2026, 1, 6)) is True

    async def test_concurrent_claims_have_one_winner(
        self, brief_schedule_store: BriefScheduleStore
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        claims = (self._claim(brief_schedule_store, schedule.id, DAY) for _ in range(10))
        assert (await asyncio.gather(*claims)).count(True) == 1

    async def test_a_failed_run_may_be_claimed_again_a_sent_one_not(
        self, brief_schedule_store: BriefScheduleStore
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        await self._finish(brief_schedule_store, schedule.id, BriefRunState.FAILED, "smtp 451")
        assert await self._claim(brief_schedule_store, schedule.id, DAY) is True
        await self._finish(brief_schedule_store, schedule.id, BriefRunState.SENT)
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=LONG_AFTER) is False

    async def test_an_abandoned_run_is_never_claimed_again(
        self, brief_schedule_store: BriefScheduleStore
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        finished = await self._finish(
            brief_schedule_store, schedule.id, BriefRunState.ABANDONED, "smtp 550"
        )
        assert finished is True
        assert await self._claim(brief_schedule_store, schedule.id, DAY) is False
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=LONG_AFTER) is False

    async def test_a_running_run_is_taken_over_once_its_lease_has_run_out(
        self, brief_schedule_store: BriefScheduleStore
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        expiry = T0 + LEASE
        await self._claim(brief_schedule_store, schedule.id, DAY)
        tick = timedelta(seconds=1)
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=expiry - tick) is False
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=expiry) is True
        # The take-over holds a lease of its own, counted from its claim.
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=expiry + tick) is False

    async def test_concurrent_claims_after_the_lease_have_one_winner(
        self, brief_schedule_store: BriefScheduleStore
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        later = T0 + 2 * LEASE
        claims = (self._claim(brief_schedule_store, schedule.id, DAY, at=later) for _ in range(10))
        assert (await asyncio.gather(*claims)).count(True) == 1

    async def test_a_worker_whose_run_was_taken_over_records_nothing(
        self, brief_schedule_store: BriefScheduleStore
    ) -> None:
        schedule = await self._saved(brief_schedule_store)
        await self._claim(brief_schedule_store, schedule.id, DAY)
        await self._claim(brief_schedule_store, schedule.id, DAY, at=T0 + LEASE)
        late = await self._finish(brief_schedule_store, schedule.id, BriefRunState.FAILED, "x")
        current = await self._finish(
            brief_schedule_store, schedule.id, BriefRunState.SENT, claimed_at=T0 + LEASE
        )
        assert (late, current) == (False, True)
        assert await self._claim(brief_schedule_store, schedule.id, DAY, at=LONG_AFTER) is False

    @staticmethod
    async def _saved(store: BriefScheduleStore) -> BriefSchedule:
        schedule = brief_schedule()
        await store.save(schedule)
        return schedule

    @staticmethod
    async def _claim(
        store: BriefScheduleStore, schedule_id: str, day: date, *, at: datetime = T0
    ) -> bool:
        return await store.claim_run(schedule_id, day, at=at, lease=LEASE)

    @staticmethod
    async def _finish(
        store: BriefScheduleStore,
        schedule_id: str,
        state: BriefRunState,
        error: str = "",
        *,
        claimed_at: datetime = T0,
    ) -> bool:
        return await store.finish_run(
            schedule_id, DAY, claimed_at=claimed_at, state=state, at=claimed_at, error=error
        )
