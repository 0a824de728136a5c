"""SMTP settings: a frozen model that :meth:`walker_channels.app.Settings.smtp_config` fills."""

from __future__ import annotations

from email.utils import parseaddr
from enum import StrEnum

from pydantic import Field, SecretStr, field_validator, model_validator

from walker_channels.exceptions import InvalidEmailAddress
from walker_channels.models.base import Frozen


class SmtpSecurity(StrEnum):
    """How the connection to the SMTP server is protected."""

    NONE = "none"
    """Plain text: only for a relay on localhost or a test server."""
    STARTTLS = "starttls"
    """Connect in plain text, then upgrade with STARTTLS (port 587); refuse if not offered."""
    TLS = "tls"
    """Implicit TLS from the first byte (port 465)."""


DEFAULT_PORTS = {SmtpSecurity.NONE: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}


class SmtpConfig(Frozen):
    """Where and how to send email.

    ``sender`` is the default ``From``: a bare address or ``Name <address>``. ``retries`` is the
    number of extra attempts after a temporary failure, waiting ``retry_backoff`` seconds
    before the first and twice as long before each next one (0 in tests removes the waits).
    """

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    """``None``: 25, 587 or 465 by ``security``."""
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(min_length=3)
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    timeout: float = Field(default=30.0, gt=0, le=600)
    retries: int = Field(default=2, ge=0, le=10)
    retry_backoff: float = Field(default=0.5, ge=0, le=60)
    validate_certs: bool = True
    message_id_domain: str | None = None
    """Right-hand side of generated Message-IDs; ``None``: the sender's domain."""

    @field_validator("sender")
    @classmethod
    def _valid_sender(cls, value: str) -> str:
        # Imported here so that the settings can read SmtpSecurity without the "email" extra.
        from walker_channels.emails import validate_email_address

        _, address = parseaddr(value)
        try:
            validate_email_address(address, what="the sender (SMTP_FROM)")
        except InvalidEmailAddress as exc:
            raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _login_needs_both(self) -> SmtpConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP login needs both a username and a password")
        return self

    @property
    def effective_port(self) -> int:
        """The configured port, or the usual one for ``security``."""
        return self.port if self.port is not None else DEFAULT_PORTS[self.security]

    @property
    def sender_address(self) -> str:
        """The bare address of ``sender`` (the SMTP envelope sender)."""
        return parseaddr(self.sender)[1]
