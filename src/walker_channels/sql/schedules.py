"""Daily-brief schedules in SQL, and the once-per-local-day claim on each run.

A run's lease is measured from its ``claimed_at``; the claim time is also the claim's token, so
a worker whose run was taken over cannot overwrite the new worker's outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from walker_channels.models import BriefRunState, BriefSchedule
from walker_channels.sql.engine import Database
from walker_channels.sql.tables import brief_runs, brief_schedules

_s = brief_schedules.c
_r = brief_runs.c


class SqlBriefScheduleStore:
    """A :class:`~walker_channels.ports.BriefScheduleStore` on ``walker_brief_schedules`` and
    ``walker_brief_runs``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, schedule: BriefSchedule) -> None:
        """Insert or replace ``schedule`` by id."""
        row = schedule.model_dump(mode="python")
        insert = self._db.dialect.insert(brief_schedules).values(row)
        stmt = insert.on_conflict_do_update(
            index_elements=[_s.id],
            set_={name: insert.excluded[name] for name in row if name != "id"},
        )
        await self._db.run(lambda conn: conn.execute(stmt), write=True)

    async def list_active(self) -> Sequence[BriefSchedule]:
        """Every active schedule, oldest first."""
        stmt = sa.select(brief_schedules).where(_s.active.is_(True)).order_by(_s.created_at, _s.id)
        rows = await self._db.run(lambda conn: conn.execute(stmt).mappings().all())
        return [BriefSchedule.model_validate(dict(row)) for row in rows]

    async def claim_run(
        self, schedule_id: str, local_date: date, *, at: datetime, lease: timedelta
    ) -> bool:
        """Claim the day's run: a new row, or a failed or expired one taken over, in one
        statement (the database re-checks the condition on the row it locks)."""
        insert = self._db.dialect.insert(brief_runs).values(
            schedule_id=schedule_id,
            local_date=local_date,
            state=BriefRunState.RUNNING.value,
            claimed_at=at,
            error="",
        )
        expired = sa.and_(_r.state == BriefRunState.RUNNING.value, _r.claimed_at <= at - lease)
        stmt = insert.on_conflict_do_update(
            index_elements=[_r.schedule_id, _r.local_date],
            set_={"state": BriefRunState.RUNNING.value, "claimed_at": at, "finished_at": None},
            where=sa.or_(_r.state == BriefRunState.FAILED.value, expired),
        ).returning(_r.schedule_id)
        return await self._db.run(lambda conn: conn.execute(stmt).first() is not None, write=True)

    async def finish_run(
        self,
        schedule_id: str,
        local_date: date,
        *,
        claimed_at: datetime,
        state: BriefRunState,
        at: datetime,
        error: str = "",
    ) -> bool:
        """Record the outcome of the claim made at ``claimed_at``, if it still holds the run."""
        stmt = (
            sa.update(brief_runs)
            .where(
                _r.schedule_id == schedule_id,
                _r.local_date == local_date,
                _r.state == BriefRunState.RUNNING.value,
                _r.claimed_at == claimed_at,
            )
            .values(state=state.value, finished_at=at, error=error)
            .returning(_r.schedule_id)
        )
        return await self._db.run(lambda conn: conn.execute(stmt).first() is not None, write=True)
