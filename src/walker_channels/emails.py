"""Email address validation (syntax only: no DNS lookups on the request path)."""

from __future__ import annotations

from walker_channels.exceptions import InvalidEmailAddress, MissingDependency
from walker_channels.models import Address, Channel


def validate_email_address(value: str, *, what: str = "the recipient address") -> str:
    """The normalised form of ``value``; raises InvalidEmailAddress (without the address)."""
    try:
        from email_validator import EmailNotValidError, validate_email
    except ModuleNotFoundError as exc:
        raise MissingDependency("Email address validation", "email") from exc
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        # email-validator's own message quotes parts of the address, so it is not passed on.
        raise InvalidEmailAddress(
            f"{what} is not a valid email address: it needs a name, one @ and a domain "
            "such as example.com"
        ) from None


def email_address(value: str, *, what: str = "the recipient address") -> Address:
    """An email :class:`~walker_channels.models.Address` for ``value``, validated."""
    return Address(channel=Channel.EMAIL, value=validate_email_address(value, what=what))


def redact_email(value: str) -> str:
    """``***@domain``: enough to tell deployments apart in a console, without the person."""
    _, at, domain = value.rpartition("@")
    return f"***@{domain}" if at else "***"
