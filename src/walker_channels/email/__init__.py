"""The email provider: an SMTP transport (aiosmtplib), MIME building, and a console transport.

Needs the ``email`` extra. The email flows (custom sends, daily briefs, schedules, templates)
are application services in :mod:`walker_channels.services.email`; they send through the one
:class:`~walker_channels.services.OutboundSender`, like every other channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from walker_channels.extras import lazy_attribute

if TYPE_CHECKING:
    from walker_channels.email.config import SmtpConfig, SmtpSecurity
    from walker_channels.email.console import ConsoleEmailTransport
    from walker_channels.email.smtp import SmtpTransport

__all__ = [
    "ConsoleEmailTransport",
    "SmtpConfig",
    "SmtpSecurity",
    "SmtpTransport",
]

_HOMES = {
    **dict.fromkeys(("SmtpConfig", "SmtpSecurity"), "config"),
    "ConsoleEmailTransport": "console",
    "SmtpTransport": "smtp",
}
_NEEDS = frozenset({"aiosmtplib", "email_validator", "jinja2"})


def __getattr__(name: str) -> Any:
    # Loaded on first use, so the CLI and the settings work without the "email" extra.
    return lazy_attribute(
        __name__, _HOMES, name, needs=_NEEDS, feature="The email channel", extra="email"
    )
