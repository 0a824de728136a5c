"""The :class:`~walker_channels.ports.TenantResolver` and ``TenantRegistry`` contracts."""

from __future__ import annotations

import pytest

from walker_channels.exceptions import Conflict
from walker_channels.models import Address, Channel
from walker_channels.ports import TenantRegistry, TenantResolver


@pytest.mark.anyio
class TenantResolverContract:
    """Provide a resolver in which ``KNOWN`` (a WhatsApp number) belongs to ``TENANT``, the
    same number on SMS (``KNOWN_SMS``) to ``SMS_TENANT``, and nothing else."""

    KNOWN = Address(channel=Channel.WHATSAPP, value="+14155552671")
    KNOWN_SMS = Address(channel=Channel.SMS, value="+14155552671")
    TENANT = "tenant-a"
    SMS_TENANT = "tenant-b"

    @pytest.fixture
    def tenant_resolver(self) -> TenantResolver:
        """Override: a TenantResolver that maps KNOWN to TENANT and KNOWN_SMS to SMS_TENANT."""
        raise NotImplementedError

    async def test_a_known_number_resolves_to_its_tenant(
        self, tenant_resolver: TenantResolver
    ) -> None:
        assert await tenant_resolver.resolve(self.KNOWN) == self.TENANT

    async def test_an_unknown_number_resolves_to_none(
        self, tenant_resolver: TenantResolver
    ) -> None:
        unknown = Address(channel=Channel.WHATSAPP, value="+14155550199")
        assert await tenant_resolver.resolve(unknown) is None

    async def test_a_number_is_owned_on_its_own_channel(
        self, tenant_resolver: TenantResolver
    ) -> None:
        assert await tenant_resolver.resolve(self.KNOWN_SMS) == self.SMS_TENANT
        unknown_sms = Address(channel=Channel.SMS, value="+14155550199")
        assert await tenant_resolver.resolve(unknown_sms) is None
        as_email = Address(channel=Channel.EMAIL, value=self.KNOWN.value)
        assert await tenant_resolver.resolve(as_email) is None


@pytest.mark.anyio
class TenantRegistryContract:
    """Provide an empty :class:`~walker_channels.ports.TenantRegistry` as ``tenant_registry``."""

    NUMBER = "+14155552671"

    @pytest.fixture
    def tenant_registry(self) -> TenantRegistry:
        """Override: a TenantRegistry that owns nothing."""
        raise NotImplementedError

    async def test_a_mapped_number_resolves_at_once_and_is_listed(
        self, tenant_registry: TenantRegistry
    ) -> None:
        await tenant_registry.add_number("t1", f"whatsapp:{self.NUMBER}", user_id="u1")
        whatsapp = Address(channel=Channel.WHATSAPP, value=self.NUMBER)
        assert await tenant_registry.resolve(whatsapp) == "t1"
        assert await tenant_registry.resolve(whatsapp.replace(channel=Channel.SMS)) is None
        [number] = await tenant_registry.numbers("t1")
        assert (number.address, number.channel, number.user_id) == (
            self.NUMBER,
            Channel.WHATSAPP,
            "u1",
        )
        assert await tenant_registry.tenants() == ["t1"]

    async def test_another_tenants_number_is_a_conflict(
        self, tenant_registry: TenantRegistry
    ) -> None:
        await tenant_registry.add_number("t1", self.NUMBER)
        with pytest.raises(Conflict):
            await tenant_registry.add_number("t2", self.NUMBER)
        assert await tenant_registry.numbers("t2") == []

    async def test_a_released_number_resolves_to_no_one(
        self, tenant_registry: TenantRegistry
    ) -> None:
        await tenant_registry.add_number("t1", self.NUMBER)
        assert not await tenant_registry.remove_number(self.NUMBER, tenant_id="t2")
        assert await tenant_registry.remove_number(self.NUMBER, tenant_id="t1")
        assert not await tenant_registry.remove_number(self.NUMBER)
        sms = Address(channel=Channel.SMS, value=self.NUMBER)
        assert await tenant_registry.resolve(sms) is None
        assert await tenant_registry.tenants() == []
