"""``GET /api/v1/admin/health`` (superusers): can the database be reached, and how much
inbound work waits, for how long.

The check is one read of the inbound queue (:meth:`~walker_channels.ports.InboundQueue.stats`),
bounded by :data:`CHECK_TIMEOUT`: a database that fails or does not answer in time is reported
unreachable, with a 503 so that a probe or a load balancer can act on the status alone. The
queue figures are what an autoscaler watches: messages waiting, and the age of the oldest.
"""

from __future__ import annotations

import time
from typing import Literal

import anyio
from pydantic import Field

from walker_channels.exceptions import StoreError
from walker_channels.models import Principal, QueueStats
from walker_channels.models.base import AwareDatetime, Frozen
from walker_channels.ports import Clock, InboundQueue
from walker_channels.web.admin_endpoints import ADMIN
from walker_channels.web.auth import Access
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse

CHECK_TIMEOUT = 5.0
"""Seconds the database may take to answer the health check before it counts as unreachable."""


class DatabaseHealth(Frozen):
    """Whether the store answered, and how fast."""

    reachable: bool
    latency_ms: float | None = Field(default=None, ge=0)
    """How long the check's read took (``None`` when it failed)."""
    error: str | None = None
    """Why it is unreachable: the failure's kind, never a statement or its values."""


class QueueHealth(Frozen):
    """The inbound queue: entries waiting and in progress, and the oldest waiting one."""

    waiting: int = Field(ge=0)
    in_progress: int = Field(ge=0)
    oldest_waiting_at: AwareDatetime | None = None
    oldest_waiting_age_seconds: float | None = Field(default=None, ge=0)
    """Seconds the oldest waiting message has waited (``None``: nothing waits)."""


class HealthReport(Frozen):
    """The answer of the health endpoint: ``ok`` (200) or ``unavailable`` (503)."""

    status: Literal["ok", "unavailable"]
    database: DatabaseHealth
    queue: QueueHealth | None = None
    """``None`` while the database cannot be read."""


class HealthEndpoints:
    """The health endpoint, on the services' inbound queue and clock."""

    def __init__(self, *, queue: InboundQueue, clock: Clock) -> None:
        self._queue = queue
        self._clock = clock

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        return [
            Endpoint(
                "health", "GET", f"{ADMIN}/health", Access.SUPERUSER, self.health,
                "Database reachability, queue depth and the oldest waiting message's age",
                "admin", response=HealthReport, errors=(503,),
            ),
        ]  # fmt: skip

    async def health(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """200 with the queue's figures when the database answers, else 503."""
        report = await self.report()
        return NeutralResponse.json(report, status=200 if report.status == "ok" else 503)

    async def report(self) -> HealthReport:
        """Read the queue once (within :data:`CHECK_TIMEOUT`) and report what was found."""
        started = time.perf_counter()
        now = self._clock.now()
        try:
            with anyio.fail_after(CHECK_TIMEOUT):
                stats = await self._queue.stats(now=now)
        except StoreError as exc:
            return _unavailable(str(exc))
        except TimeoutError:
            return _unavailable(f"no answer within {CHECK_TIMEOUT:g} s")
        latency = (time.perf_counter() - started) * 1000
        database = DatabaseHealth(reachable=True, latency_ms=round(latency, 3))
        return HealthReport(status="ok", database=database, queue=_queue_health(stats, now))


def _queue_health(stats: QueueStats, now: AwareDatetime) -> QueueHealth:
    oldest = stats.oldest_waiting_at
    age = None if oldest is None else max(0.0, (now - oldest).total_seconds())
    return QueueHealth(
        waiting=stats.waiting,
        in_progress=stats.in_progress,
        oldest_waiting_at=oldest,
        oldest_waiting_age_seconds=age,
    )


def _unavailable(reason: str) -> HealthReport:
    return HealthReport(
        status="unavailable", database=DatabaseHealth(reachable=False, error=reason)
    )
