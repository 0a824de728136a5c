"""What the demo runs with: the real settings where the environment has them, simulated parts
(and generated secrets) where it does not.

:func:`plan_demo` is pure: it takes the settings read from the environment, the command's
options and the port actually bound, and decides everything else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from walker_channels.app import Settings
from walker_channels.exceptions import ConfigurationError, InvalidPhoneNumber
from walker_channels.phones import normalize_phone, parse_inbound_address

DEMO_TENANT = "demo"
DEMO_BUSINESS_NUMBER = "+14155238886"
"""The demo tenant's WhatsApp number when Twilio is simulated (Twilio's sandbox number)."""
DEMO_SMS_NUMBER = "+14155550123"
"""The demo tenant's SMS number when Twilio is simulated and ``TWILIO_SMS_FROM`` is unset."""
DEMO_PERSON = "+14155552671"
"""Who writes in, in the printed examples (a fictional number)."""
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DATABASE = "walker-channels-demo.db"
DEMO_TOKEN_ENV = "WALKER_DEMO_TOKEN"  # noqa: S105 - the variable's name, not a secret
SIMULATOR_PREFIX = "/simulated-twilio"
"""Where the demo app serves its simulated Twilio Messages API."""
SIMULATED_ACCOUNT_SID = "AC" + "de" * 16
"""A well-formed account SID that names no real account."""
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - recognised, not bound


@dataclass(frozen=True)
class DemoOptions:
    """The ``walker-channels demo`` command's options."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    """0 picks a free port."""
    confidence: float | None = None
    """The echo agent's fixed confidence; ``None``: low only when the text mentions "refund"."""
    database: Path | None = None
    """A SQLite file; ``None``: ``WALKER_DATABASE_URL``, else ``walker-channels-demo.db``."""


@dataclass(frozen=True)
class DemoPlan:
    """Everything the demo app is built from, and what the printout says about it."""

    settings: Settings
    public_url: str
    """The base URL webhooks are signed over (``WALKER_PUBLIC_URL``, else where it listens)."""
    api_token: str = ""
    """The bearer token that makes a caller the demo's superuser."""
    business_number: str = DEMO_BUSINESS_NUMBER
    """The demo tenant's WhatsApp number (E.164)."""
    sms_number: str | None = DEMO_SMS_NUMBER
    """The demo tenant's SMS number (``TWILIO_SMS_FROM``); ``None``: no SMS channel."""
    confidence: float | None = None
    simulated_twilio: bool = True
    simulated_email: bool = True
    langflow_agent: bool = False

    @property
    def twilio_token(self) -> str:
        """The Twilio auth token webhooks are signed with (the simulator's, or the real one)."""
        token = self.settings.twilio_auth_token
        return token.get_secret_value() if token is not None else ""


def plan_demo(environment: Settings, options: DemoOptions, *, port: int) -> DemoPlan:
    """The demo's plan: ``environment`` as read, with every missing part simulated."""
    url_host = _url_host(options.host)
    public_url = (environment.walker_public_url or f"http://{url_host}:{port}").rstrip("/")
    real_twilio = bool(environment.twilio_account_sid and environment.twilio_auth_token)
    if real_twilio and not environment.twilio_whatsapp_from:
        raise ConfigurationError(
            "set TWILIO_WHATSAPP_FROM (your Twilio WhatsApp number, e.g. whatsapp:+14155238886) "
            "to serve real Twilio traffic, or unset TWILIO_ACCOUNT_SID to simulate Twilio"
        )
    updates: dict[str, object] = {
        "walker_public_url": public_url,
        "walker_database_url": _database_url(options.database, environment),
        "walker_pseudonym_key": environment.walker_pseudonym_key or _secret(),
    }
    if not real_twilio:
        updates |= {
            "twilio_account_sid": SIMULATED_ACCOUNT_SID,
            "twilio_auth_token": environment.twilio_auth_token or _secret(),
            "twilio_whatsapp_from": f"whatsapp:{DEMO_BUSINESS_NUMBER}",
            "twilio_sms_from": environment.twilio_sms_from or DEMO_SMS_NUMBER,
            "twilio_api_base_url": f"http://{url_host}:{port}{SIMULATOR_PREFIX}",
        }
    settings = Settings(**{**environment.model_dump(), **updates})
    return DemoPlan(
        settings=settings,
        public_url=public_url,
        api_token=_demo_token(environment),
        business_number=_business_number(settings),
        sms_number=_sms_number(settings),
        confidence=options.confidence,
        simulated_twilio=not real_twilio,
        simulated_email=not environment.smtp_host,
        langflow_agent=bool(environment.langflow_base_url and environment.langflow_flow_id),
    )


def sqlite_url(path: Path) -> str:
    """The async SQLite URL of the file at ``path``."""
    return f"sqlite+aiosqlite:///{path.expanduser().resolve()}"


def _demo_token(environment: Settings) -> str:
    token = environment.walker_demo_token
    return token.get_secret_value() if token is not None else secrets.token_urlsafe(24)


def _database_url(database: Path | None, environment: Settings) -> str:
    if database is not None:
        return sqlite_url(database)
    if environment.walker_database_url:
        return environment.walker_database_url
    return sqlite_url(Path(DEFAULT_DATABASE))


def _business_number(settings: Settings) -> str:
    sender = settings.twilio_whatsapp_from
    if not sender:
        return DEMO_BUSINESS_NUMBER
    return normalize_phone(sender.removeprefix("whatsapp:"))


def _sms_number(settings: Settings) -> str | None:
    sender = (settings.twilio_sms_from or "").strip()
    if not sender:
        return None
    try:
        return parse_inbound_address(sender).value
    except InvalidPhoneNumber:
        return sender  # a short code (or an alphanumeric id, which receives nothing)


def _url_host(host: str) -> str:
    if host in _WILDCARD_HOSTS:
        return DEFAULT_HOST
    return f"[{host}]" if ":" in host else host


def _secret() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(24))
