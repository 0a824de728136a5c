"""Flask integration for walker-channels: an extension that registers a blueprint.

from walker_channels.app import Settings, build_services
from walker_channels_flask import WalkerChannels

WalkerChannels(build_services(Settings()), principal=current_principal).init_app(app)

``walker_channels_flask.testing.SettledTransport`` is an httpx transport for the host's tests.
"""

from __future__ import annotations

from walker_channels_flask.extension import (
    EXTENSION_KEY,
    PrincipalProvider,
    WalkerChannels,
    to_neutral,
    to_response,
)

__all__ = ["EXTENSION_KEY", "PrincipalProvider", "WalkerChannels", "to_neutral", "to_response"]
