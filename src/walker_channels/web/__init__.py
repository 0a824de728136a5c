"""The framework-neutral HTTP layer: every endpoint, its auth, its errors, and the composition root.

Adapters (``walker_channels_fastapi``, ``walker_channels_flask``) only translate between their
framework and :class:`NeutralRequest`/:class:`NeutralResponse`; everything an endpoint does
(status codes, error bodies, who may call it) is decided here, once. Importing this package
builds nothing; :func:`build_services` does, when called.
"""

from __future__ import annotations

from walker_channels.web.api import HttpApi
from walker_channels.web.auth import (
    Access,
    admin_scope,
    require_principal,
    require_superuser,
    require_tenant,
)
from walker_channels.web.bootstrap import build_services, service_config_from
from walker_channels.web.config import WebConfig, WebhookProcessing
from walker_channels.web.endpoints import Endpoint, Handler
from walker_channels.web.errors import STATUS_BY_ERROR, error_response, status_for
from walker_channels.web.limits import (
    DEFAULT_MAX_BODY_BYTES,
    check_declared_length,
    read_limited,
    read_limited_sync,
)
from walker_channels.web.requests import (
    AfterResponse,
    Headers,
    MultiDict,
    NeutralRequest,
    NeutralResponse,
)
from walker_channels.web.schemas import ErrorBody, ValidationIssue
from walker_channels.web.services import EmailServices, Services, StoreSet
from walker_channels.web.settings import Settings

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "STATUS_BY_ERROR",
    "Access",
    "AfterResponse",
    "EmailServices",
    "Endpoint",
    "ErrorBody",
    "Handler",
    "Headers",
    "HttpApi",
    "MultiDict",
    "NeutralRequest",
    "NeutralResponse",
    "Services",
    "Settings",
    "StoreSet",
    "ValidationIssue",
    "WebConfig",
    "WebhookProcessing",
    "admin_scope",
    "build_services",
    "check_declared_length",
    "error_response",
    "read_limited",
    "read_limited_sync",
    "require_principal",
    "require_superuser",
    "require_tenant",
    "service_config_from",
    "status_for",
]
