"""The single mapping from walker-channels errors to HTTP status codes and ``{"detail": ...}``.

Library errors carry messages that are safe to return (see :mod:`walker_channels.exceptions`).
Anything unexpected becomes a logged 500 whose body says nothing about the cause.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from walker_channels.exceptions import (
    AccessDenied,
    AgentError,
    Conflict,
    InvalidAddress,
    InvalidEmailAddress,
    InvalidInput,
    InvalidPhoneNumber,
    InvalidSignature,
    MessageRejected,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    StoreError,
    TransportError,
    WalkerError,
)
from walker_channels.failures import failure_chain, failure_report
from walker_channels.web.requests import NeutralResponse

logger = logging.getLogger("walker_channels.web")

# First match wins, so subclasses come before their bases.
STATUS_BY_ERROR: tuple[tuple[type[WalkerError], int], ...] = (
    (PayloadTooLarge, 413),
    (InvalidPhoneNumber, 422),
    (InvalidEmailAddress, 422),
    (InvalidAddress, 422),
    (MessageRejected, 422),
    (InvalidInput, 400),
    (InvalidSignature, 403),
    (NotAuthenticated, 401),
    (AccessDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (TransportError, 502),
    (AgentError, 502),
    (StoreError, 503),
)
"""Library error class -> HTTP status. Errors not listed (e.g. ``ConfigurationError``) are 500s."""

SIGNATURE_DETAIL = "the request signature could not be verified"
INTERNAL_DETAIL = "internal server error"


def status_for(error: BaseException) -> int:
    """The HTTP status for ``error`` (500 for anything that is not a mapped library error)."""
    if isinstance(error, ValidationError):
        return 422
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def error_response(error: BaseException, *, where: str = "") -> NeutralResponse:
    """The JSON error response for ``error``; unexpected errors are logged with their frames."""
    status = status_for(error)
    if status == 500:
        logger.error(
            "unhandled error in %s: %s",
            where or "a walker-channels endpoint",
            failure_report(error),
        )
        return NeutralResponse.json({"detail": INTERNAL_DETAIL}, status=500)
    if isinstance(error, StoreError):
        log_store_error(error, where=where)
    return NeutralResponse.json({"detail": _detail(error)}, status=status)


def log_store_error(error: StoreError, *, where: str = "") -> None:
    """Log a store failure with its cause: the exception classes and the SQLSTATE or errno.

    Never the causes' messages or a traceback: a driver's message repeats the statement and
    its parameters, which can hold a person's number or text.
    """
    logger.error(
        "the store failed in %s: %s; cause: %s",
        where or "a walker-channels endpoint",
        error,
        failure_chain(error, include_self=False),
    )


def _detail(error: BaseException) -> Any:
    if isinstance(error, ValidationError):
        return validation_detail(error)
    if isinstance(error, InvalidSignature):
        # The precise reason is logged by the webhook endpoint; callers learn only that it failed.
        return SIGNATURE_DETAIL
    return str(error) or type(error).__name__


def validation_detail(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as ``[{"loc", "msg", "type"}]``, without the rejected input values.

    The input is left out on purpose: it may be a phone number, an email address or a message.
    """
    return [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors(include_url=False, include_context=False, include_input=False)
    ]
