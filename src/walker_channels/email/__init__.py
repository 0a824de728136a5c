"""The email provider: an SMTP transport (aiosmtplib), MIME building, and a console transport.

Needs the ``email`` extra. The email flows (custom sends, daily briefs, schedules, templates)
are application services in :mod:`walker_channels.services.email`; they send through the one
:class:`~walker_channels.services.OutboundSender`, like every other channel.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from walker_channels.exceptions import MissingDependency

if TYPE_CHECKING:
    from walker_channels.email.config import SmtpConfig, SmtpSecurity, smtp_config_from_env
    from walker_channels.email.console import ConsoleEmailTransport
    from walker_channels.email.smtp import SmtpTransport

__all__ = [
    "ConsoleEmailTransport",
    "SmtpConfig",
    "SmtpSecurity",
    "SmtpTransport",
    "smtp_config_from_env",
]

_HOMES = {
    **dict.fromkeys(("SmtpConfig", "SmtpSecurity", "smtp_config_from_env"), "config"),
    "ConsoleEmailTransport": "console",
    "SmtpTransport": "smtp",
}
EXTRA_MODULES = frozenset({"aiosmtplib", "email_validator", "jinja2"})
"""The ``email`` extra's modules: a missing one is reported as :class:`MissingDependency`."""


def __getattr__(name: str) -> Any:
    # Loaded on first use, so the CLI and the settings work without the "email" extra.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{home}")
    except ModuleNotFoundError as exc:
        if exc.name in EXTRA_MODULES:
            raise MissingDependency("The email channel", "email") from exc
        raise
    return getattr(module, name)
