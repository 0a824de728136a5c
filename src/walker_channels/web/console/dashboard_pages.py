"""The dashboard: the admin statistics as charts drawn on the server (inline SVG, no script).

The figures are the admin API's (``GET /api/v1/admin/conversations/stats`` and
``/analytics/walker-agents``, defined in :mod:`walker_channels.metrics`) over whole UTC days;
the HITL rate over time is the same statistic read once per day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pydantic import Field

from walker_channels.models import Channel, ConversationStats, Scope, StatsQuery
from walker_channels.models.base import Frozen
from walker_channels.ports import Clock, MonitoringReader
from walker_channels.web.auth import admin_scope
from walker_channels.web.console.charts import Chart, bar_chart, line_chart
from walker_channels.web.console.site import NavLink, PageRequest, Site
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralResponse

DAY = timedelta(days=1)


class DashboardParams(Frozen):
    """The dashboard's filters."""

    days: int = Field(default=14, ge=1, le=90)
    """How many UTC days, today included."""
    tenant_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Channel | None = None


class DashboardPages:
    """``/dashboard``: statistics, charts and the per-agent table (superusers only)."""

    nav = NavLink("Dashboard", "/dashboard")

    def __init__(self, monitoring: MonitoringReader, clock: Clock) -> None:
        self._monitoring = monitoring
        self._clock = clock

    def pages(self, site: Site) -> list[Endpoint]:
        """The pages of this module."""
        return [site.page("dashboard", "GET", "/dashboard", self.dashboard)]

    async def dashboard(self, page: PageRequest) -> NeutralResponse:
        """Totals, the three charts and the agents, over the chosen days."""
        params = page.request.query_model(DashboardParams)
        now = self._clock.now()
        days = day_starts(now, params.days)
        scope = admin_scope(params.tenant_id)
        whole = StatsQuery(scope=scope, start=days[0], end=now, channel=params.channel)
        stats = await self._monitoring.stats(whole)
        agents = await self._monitoring.agent_analytics(whole)
        daily = [await self._day(scope, start, params.channel) for start in days]
        return page.site.render(
            page,
            "dashboard.html",
            params=params,
            stats=stats,
            agents=agents,
            start=days[0],
            end=now,
            charts=charts(stats, [day.hitl_rate for day in daily], days),
        )

    async def _day(
        self, scope: Scope, start: datetime, channel: Channel | None
    ) -> ConversationStats:
        query = StatsQuery(scope=scope, start=start, end=start + DAY, channel=channel)
        return await self._monitoring.stats(query)


def day_starts(now: datetime, days: int) -> list[datetime]:
    """Midnight (UTC) of each of the last ``days`` days, today last."""
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    return [today - DAY * n for n in range(days - 1, -1, -1)]


def charts(
    stats: ConversationStats, hitl_rates: list[float | None], days: list[datetime]
) -> dict[str, Chart]:
    """The dashboard's charts: hourly distribution, confidence distribution, HITL rate."""
    buckets = stats.confidence_buckets
    return {
        "hourly": bar_chart(
            "Messages received by hour of day (UTC)",
            [float(n) for n in stats.hourly_distribution],
            [f"{hour:02d}" for hour in range(len(stats.hourly_distribution))],
            every=3,
        ),
        "confidence": bar_chart(
            "Confidence of the agent's answers",
            [float(bucket.count) for bucket in buckets],
            [f"{bucket.lower:.1f}–{bucket.upper:.1f}" for bucket in buckets],
            every=max(1, len(buckets) // 5),
        ),
        "hitl": line_chart(
            "Share of answers sent to human review, by day",
            hitl_rates,
            [day.strftime("%m-%d") for day in days],
            every=max(1, len(days) // 7),
        ),
    }
