"""The :class:`~walker_channels.ports.TenantResolver` contract."""

from __future__ import annotations

import pytest

from walker_channels.models import Address, Channel
from walker_channels.ports import TenantResolver


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
