"""The composition root: settings (the only reader of the environment), the builder, the runtime.

Nothing is built at import time. A host builds the services once and hands them to an adapter::

    from walker_channels.app import Settings, build_services

    services = build_services(Settings())
"""

from __future__ import annotations

from walker_channels.app.build import build_services, email_services
from walker_channels.app.config import DEFAULT_MAX_BODY_BYTES, WebConfig, WebhookProcessing
from walker_channels.app.runtime import EmailServices, Lifecycle, Services, StartHook, StoreSet
from walker_channels.app.settings import Settings
from walker_channels.app.sweeper import Sweeper

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "EmailServices",
    "Lifecycle",
    "Services",
    "Settings",
    "StartHook",
    "StoreSet",
    "Sweeper",
    "WebConfig",
    "WebhookProcessing",
    "build_services",
    "email_services",
]
