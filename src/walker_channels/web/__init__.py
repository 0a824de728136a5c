"""The framework-neutral HTTP layer: every endpoint, its auth and its errors.

Adapters (``walker_channels_fastapi``, ``walker_channels_flask``) only translate between their
framework and :class:`NeutralRequest`/:class:`NeutralResponse`; everything an endpoint does
(status codes, error bodies, who may call it) is decided here, once. The services it serves
are built by the composition root, :mod:`walker_channels.app`.
"""

from __future__ import annotations

from walker_channels.ports import AfterResponse
from walker_channels.web.api import HttpApi
from walker_channels.web.auth import (
    Access,
    admin_scope,
    require_principal,
    require_superuser,
    require_tenant,
)
from walker_channels.web.endpoints import Endpoint, Handler
from walker_channels.web.errors import STATUS_BY_ERROR, error_response, status_for
from walker_channels.web.limits import (
    check_declared_length,
    read_limited,
    read_limited_sync,
)
from walker_channels.web.requests import (
    Headers,
    MultiDict,
    NeutralRequest,
    NeutralResponse,
)
from walker_channels.web.schemas import ErrorBody, ValidationIssue

__all__ = [
    "STATUS_BY_ERROR",
    "Access",
    "AfterResponse",
    "Endpoint",
    "ErrorBody",
    "Handler",
    "Headers",
    "HttpApi",
    "MultiDict",
    "NeutralRequest",
    "NeutralResponse",
    "ValidationIssue",
    "admin_scope",
    "check_declared_length",
    "error_response",
    "read_limited",
    "read_limited_sync",
    "require_principal",
    "require_superuser",
    "require_tenant",
    "status_for",
]
