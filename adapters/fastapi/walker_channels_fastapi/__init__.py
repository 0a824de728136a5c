"""FastAPI integration for walker-channels: a router factory and a services dependency.

from walker_channels.app import Settings, build_services
from walker_channels_fastapi import create_router

services = build_services(Settings())
app.include_router(create_router(services, principal=current_principal))
"""

from __future__ import annotations

from walker_channels_fastapi.offline_docs import serve_docs_offline
from walker_channels_fastapi.router import (
    PrincipalDependency,
    ServicesDep,
    create_router,
    get_services,
    to_neutral,
    to_response,
)

__all__ = [
    "PrincipalDependency",
    "ServicesDep",
    "create_router",
    "get_services",
    "serve_docs_offline",
    "to_neutral",
    "to_response",
]
