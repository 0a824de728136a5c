"""The Meta WhatsApp channel as data: its transport, webhook, text limit, 24-hour window and
E.164 addresses."""

from __future__ import annotations

from walker_channels.channels import ChannelSpec
from walker_channels.meta.config import LABEL, META_WHATSAPP, MetaConfig
from walker_channels.meta.receiver import MetaWebhook
from walker_channels.meta.transport import MetaTransport
from walker_channels.phones import normalize_phone
from walker_channels.timing import SERVICE_WINDOW


def meta_channel(config: MetaConfig, *, transport: MetaTransport | None = None) -> ChannelSpec:
    """The :class:`ChannelSpec` to pass to ``build_services(channels=[...])``.

    Without ``transport`` one is created; close it (``await spec.transport.aclose()``) at
    shutdown. ``build_services`` builds and closes its own from the ``META_*`` settings.
    """
    return ChannelSpec(
        name=META_WHATSAPP,
        transport=transport if transport is not None else MetaTransport(config),
        label=LABEL,
        webhook=MetaWebhook(config),
        service_window=SERVICE_WINDOW,
        address=normalize_phone,
    )
