"""In-memory fakes of the consent ports: the suppression list and the tenant settings."""

from __future__ import annotations

from collections.abc import Sequence

from walker_channels.models import Channel, OptOut, TenantSettings


class InMemoryConsentStore:
    """A :class:`~walker_channels.ports.ConsentStore` in a dict (one event loop: each method
    runs without an ``await`` between its read and its write, so it is atomic)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, Channel, str], OptOut] = {}
        """Open for inspection: the list, by (tenant, channel, pseudonym)."""

    async def opt_out(self, record: OptOut) -> bool:
        """Add ``record`` unless its person is listed already."""
        key = (record.tenant_id, record.channel, record.participant)
        if key in self.records:
            return False
        self.records[key] = record
        return True

    async def opt_in(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """Remove the person; ``False`` if they were not listed."""
        return self.records.pop((tenant_id, channel, participant), None) is not None

    async def is_opted_out(self, tenant_id: str, channel: Channel, participant: str) -> bool:
        """Whether the person is listed."""
        return (tenant_id, channel, participant) in self.records

    async def opt_outs(
        self, tenant_id: str, *, channel: Channel | None = None, limit: int = 100, offset: int = 0
    ) -> Sequence[OptOut]:
        """The tenant's records (of ``channel``), newest first, then by channel and pseudonym."""
        found = [
            record
            for (tenant, on, _), record in self.records.items()
            if tenant == tenant_id and (channel is None or on == channel)
        ]
        found.sort(key=lambda r: (r.channel, r.participant))
        found.sort(key=lambda r: r.opted_out_at, reverse=True)
        return found[offset : offset + limit]


class InMemoryTenantSettingsStore:
    """A :class:`~walker_channels.ports.TenantSettingsStore` in a dict."""

    def __init__(self) -> None:
        self.saved: dict[str, TenantSettings] = {}
        """Open for inspection: the settings saved, by tenant."""

    async def get(self, tenant_id: str) -> TenantSettings:
        """The saved settings, or empty ones."""
        return self.saved.get(tenant_id) or TenantSettings(tenant_id=tenant_id)

    async def save(self, settings: TenantSettings) -> None:
        """Replace the tenant's settings."""
        self.saved[settings.tenant_id] = settings
