"""Example :class:`~walker_channels.ports.BriefDataSource` implementations (demo and tests).

A host application normally implements the port over its own analytics and campaign data;
these two show the shape: fixed data, and figures read from the conversation log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from walker_channels.models import (
    BriefMetric,
    CampaignUpdate,
    ConversationStats,
    Scope,
    StatsQuery,
)


class StatsReader(Protocol):
    """The part of :class:`~walker_channels.ports.MonitoringReader` the example source uses."""

    async def stats(self, query: StatsQuery) -> ConversationStats:
        """Aggregate statistics."""
        ...


class StaticBriefData:
    """The same figures and campaign news for everyone, or per tenant when given so."""

    def __init__(
        self,
        analytics: Iterable[BriefMetric] = (),
        campaign_updates: Iterable[CampaignUpdate] = (),
        *,
        per_tenant: Mapping[str, tuple[Sequence[BriefMetric], Sequence[CampaignUpdate]]]
        | None = None,
    ) -> None:
        self._default = (tuple(analytics), tuple(campaign_updates))
        self._per_tenant = dict(per_tenant or {})

    async def analytics(self, tenant_id: str, user_id: str, day: date) -> Sequence[BriefMetric]:
        """The configured figures."""
        return tuple(self._per_tenant.get(tenant_id, self._default)[0])

    async def campaign_updates(
        self, tenant_id: str, user_id: str, day: date
    ) -> Sequence[CampaignUpdate]:
        """The configured campaign news."""
        return tuple(self._per_tenant.get(tenant_id, self._default)[1])


class ConversationBriefData:
    """Figures from the conversation log: the tenant's messaging on the day before ``day``.

    Uses the admin read side (:class:`~walker_channels.ports.MonitoringReader`), scoped to
    the one tenant. It knows no campaigns, so its campaign news is empty.
    """

    def __init__(self, reader: StatsReader) -> None:
        self._reader = reader

    async def analytics(self, tenant_id: str, user_id: str, day: date) -> Sequence[BriefMetric]:
        """Messages in and out, success rate, median response time and review rate."""
        start = datetime.combine(day - timedelta(days=1), time(), tzinfo=UTC)
        query = StatsQuery(
            scope=Scope(tenant_ids=frozenset({tenant_id})), start=start, end=start + timedelta(1)
        )
        stats = await self._reader.stats(query)
        figures: list[BriefMetric] = [
            BriefMetric(label="Messages received", value=stats.inbound_total),
            BriefMetric(label="Replies sent", value=stats.outbound_total),
            BriefMetric(label="Unique people", value=stats.unique_users),
        ]
        if stats.success_rate is not None:
            figures.append(_percent("Delivery success", stats.success_rate))
        if stats.hitl_rate is not None:
            figures.append(_percent("Sent to human review", stats.hitl_rate))
        if stats.p50_response_ms is not None:
            seconds = round(stats.p50_response_ms / 1000, 2)
            figures.append(BriefMetric(label="Median response time", value=seconds, unit=" s"))
        return figures

    async def campaign_updates(
        self, tenant_id: str, user_id: str, day: date
    ) -> Sequence[CampaignUpdate]:
        """None: the conversation log knows no campaigns."""
        return ()


def _percent(label: str, rate: float) -> BriefMetric:
    return BriefMetric(label=label, value=round(rate * 100, 1), unit="%")
