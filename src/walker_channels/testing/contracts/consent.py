"""The :class:`~walker_channels.ports.ConsentStore` and ``TenantSettingsStore`` contracts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from walker_channels.models import (
    Channel,
    ConsentKeywords,
    ConsentSource,
    FallbackTemplate,
    OptOut,
    TenantSettings,
)
from walker_channels.ports import ConsentStore, TenantSettingsStore
from walker_channels.testing.contracts.common import T0


def opt_out(
    participant: str = "p-1",
    *,
    tenant_id: str = "tenant-a",
    channel: Channel = Channel.SMS,
    minutes: int = 0,
    source: ConsentSource = ConsentSource.KEYWORD,
) -> OptOut:
    """An opt-out record, ``minutes`` after :data:`T0`."""
    return OptOut(
        tenant_id=tenant_id,
        channel=channel,
        participant=participant,
        opted_out_at=T0 + timedelta(minutes=minutes),
        source=source,
    )


@pytest.mark.anyio
class ConsentStoreContract:
    """Provide an empty :class:`~walker_channels.ports.ConsentStore` as ``consent_store``."""

    @pytest.fixture
    def consent_store(self) -> ConsentStore:
        """Override: an empty ConsentStore."""
        raise NotImplementedError

    async def test_an_opt_out_is_kept_per_tenant_and_channel(
        self, consent_store: ConsentStore
    ) -> None:
        assert await consent_store.opt_out(opt_out())

        assert await consent_store.is_opted_out("tenant-a", Channel.SMS, "p-1")
        assert not await consent_store.is_opted_out("tenant-a", Channel.WHATSAPP, "p-1")
        assert not await consent_store.is_opted_out("tenant-b", Channel.SMS, "p-1")
        assert not await consent_store.is_opted_out("tenant-a", Channel.SMS, "p-2")

    async def test_a_second_opt_out_keeps_the_first_record(
        self, consent_store: ConsentStore
    ) -> None:
        first = opt_out()
        await consent_store.opt_out(first)

        again = opt_out(minutes=5, source=ConsentSource.SEND_ERROR)
        assert not await consent_store.opt_out(again)
        assert await consent_store.opt_outs("tenant-a") == [first]

    async def test_opting_in_lifts_it_once(self, consent_store: ConsentStore) -> None:
        await consent_store.opt_out(opt_out())

        assert await consent_store.opt_in("tenant-a", Channel.SMS, "p-1")
        assert not await consent_store.opt_in("tenant-a", Channel.SMS, "p-1")
        assert not await consent_store.is_opted_out("tenant-a", Channel.SMS, "p-1")

    async def test_the_list_is_the_tenants_newest_first_and_paged(
        self, consent_store: ConsentStore
    ) -> None:
        old, new = opt_out("p-old"), opt_out("p-new", minutes=10)
        whatsapp = opt_out("p-wa", channel=Channel.WHATSAPP, minutes=5)
        for record in (old, new, whatsapp, opt_out("p-other", tenant_id="tenant-b")):
            await consent_store.opt_out(record)

        assert await consent_store.opt_outs("tenant-a") == [new, whatsapp, old]
        assert await consent_store.opt_outs("tenant-a", channel=Channel.SMS) == [new, old]
        assert await consent_store.opt_outs("tenant-a", limit=1, offset=1) == [whatsapp]

    async def test_concurrent_opt_outs_have_one_winner(self, consent_store: ConsentStore) -> None:
        results = await asyncio.gather(*(consent_store.opt_out(opt_out()) for _ in range(8)))

        assert results.count(True) == 1
        assert len(await consent_store.opt_outs("tenant-a")) == 1


@pytest.mark.anyio
class TenantSettingsStoreContract:
    """Provide an empty :class:`~walker_channels.ports.TenantSettingsStore` as
    ``tenant_settings_store``."""

    @pytest.fixture
    def tenant_settings_store(self) -> TenantSettingsStore:
        """Override: an empty TenantSettingsStore."""
        raise NotImplementedError

    SETTINGS = TenantSettings(
        tenant_id="tenant-a",
        keywords={
            "es": ConsentKeywords(stop=("BAJA", "ALTO"), start=("ALTA",)),
            "en": ConsentKeywords(stop=("STOP",)),
        },
        fallback_template=FallbackTemplate(
            content_sid="HX" + "0" * 32, variables={"1": "{last_message_date}", "2": "Hi"}
        ),
    )

    async def test_a_tenant_without_settings_gets_empty_ones(
        self, tenant_settings_store: TenantSettingsStore
    ) -> None:
        assert await tenant_settings_store.get("tenant-a") == TenantSettings(tenant_id="tenant-a")

    async def test_saved_settings_read_back_equal(
        self, tenant_settings_store: TenantSettingsStore
    ) -> None:
        await tenant_settings_store.save(self.SETTINGS)

        assert await tenant_settings_store.get("tenant-a") == self.SETTINGS
        assert await tenant_settings_store.get("tenant-b") == TenantSettings(tenant_id="tenant-b")

    async def test_saving_replaces_every_setting(
        self, tenant_settings_store: TenantSettingsStore
    ) -> None:
        await tenant_settings_store.save(self.SETTINGS)
        fewer = TenantSettings(
            tenant_id="tenant-a", keywords={"fr": ConsentKeywords(stop=("ARRET",))}
        )

        await tenant_settings_store.save(fewer)

        assert await tenant_settings_store.get("tenant-a") == fewer
