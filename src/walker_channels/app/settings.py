"""Settings from the environment (pydantic-settings): the one place that reads it.

Each field is named after its environment variable (``TWILIO_AUTH_TOKEN`` -> ``twilio_auth_token``);
docs/mounting.md lists every one. ``Settings()`` reads the process environment;
``Settings(_env_file=".env")`` reads a dotenv file too. Variables that are not walker-channels'
own (a host application's ``.env`` holds many) are ignored. Secrets are
:class:`~pydantic.SecretStr`, so printing the settings never shows them.

Each part of the library gets a small projection (:meth:`Settings.web_config`,
:meth:`Settings.twilio_config`, :meth:`Settings.smtp_config`, ...) instead of the whole object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from walker_channels.app.config import DEFAULT_MAX_BODY_BYTES, WebConfig, WebhookProcessing
from walker_channels.exceptions import ConfigurationError
from walker_channels.meta.config import DEFAULT_GRAPH_BASE_URL, DEFAULT_GRAPH_VERSION
from walker_channels.models import Channel, EscalationReason
from walker_channels.routing import RoutingPolicy
from walker_channels.services.config import SentimentAction, ServiceConfig
from walker_channels.telegram.config import DEFAULT_API_BASE_URL as TELEGRAM_API_BASE_URL
from walker_channels.twilio.config import DEFAULT_API_BASE_URL, HttpClientName

if TYPE_CHECKING:
    from walker_channels.agents import LangflowConfig
    from walker_channels.email import SmtpConfig
    from walker_channels.meta import MetaConfig
    from walker_channels.telegram import TelegramConfig
    from walker_channels.twilio import TwilioConfig

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./walker-channels.db"
"""The database of a server started without ``WALKER_DATABASE_URL``: a SQLite file here."""
T = TypeVar("T")
_SETTINGS_ERROR_FIELD = re.compile(r'field "(\w+)"')
STATUS_CALLBACK_PATHS = {
    Channel.WHATSAPP: "/api/v1/channels/whatsapp/status",
    Channel.SMS: "/api/v1/channels/sms/status",
}


class Settings(BaseSettings):
    """Everything walker-channels reads from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = None
    """The WhatsApp sender, ``whatsapp:+E164`` or ``+E164``."""
    twilio_sms_from: str | None = None
    """The SMS sender (E.164, a short code or an alphanumeric id); unset: no SMS channel."""
    twilio_api_base_url: str = DEFAULT_API_BASE_URL
    twilio_webhook_signing_key: SecretStr | None = None
    """Webhook shared key for HMAC-SHA256 signed webhooks (optional)."""
    twilio_rate_per_sender: float | None = Field(default=None, gt=0, le=10_000)
    """At most this many sends per second from one sender number (unset: no limit)."""
    twilio_http_client: HttpClientName = "auto"
    """The Twilio transport's HTTP stack: ``httpx``, ``aiohttp`` (the ``aiohttp`` extra), or
    ``auto``: aiohttp when installed, else httpx."""

    walker_database_url: str | None = None
    """The database; unset: :data:`DEFAULT_DATABASE_URL` for servers, an error for ``db``."""
    walker_public_url: str | None = None
    walker_pseudonym_key: SecretStr | None = None
    walker_confidence_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    walker_agent_timeout: float = Field(default=10.0, gt=0, le=600)
    """Seconds an agent may take for one reply before the message is escalated."""
    walker_processing_lease: float = Field(default=30.0, ge=1, le=3600)
    """Seconds a worker holds a message without renewing; a dead worker's work waits this long."""
    walker_coalesce_bursts: bool = False
    """Answer the messages a person sent while the agent was busy, together, as one turn."""
    walker_trust_forwarded_headers: bool = False
    walker_max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    walker_webhook_processing: WebhookProcessing = WebhookProcessing.BACKGROUND
    walker_allow_unsigned_webhooks: bool = False
    """Development only: accept unsigned webhooks while no Twilio auth token is configured."""
    walker_allowed_hosts: str | None = None
    """Comma-separated hosts (``name`` or ``name:port``) webhooks are verified for when
    ``WALKER_PUBLIC_URL`` is not set; unset too: every webhook is refused."""
    walker_dev_mode: bool = False
    """Development only: without ``WALKER_PUBLIC_URL`` or ``WALKER_ALLOWED_HOSTS``, webhooks
    are verified for whatever host a request names."""
    walker_status_callback_url: str | None = None
    """Where Twilio reports WhatsApp delivery; default: ``WALKER_PUBLIC_URL`` + the status path."""
    walker_sweep_interval: float = Field(default=30.0, ge=0)
    """Seconds between recovery sweeps (unfinished messages, overdue drafts); 0 turns them off."""
    walker_worker_concurrency: int = Field(default=32, ge=1, le=1000)
    """How many messages one ``walker-channels worker`` answers at once (``--batch`` wins)."""
    walker_migrate_on_start: bool = True
    """Run the database migrations when the services start."""
    walker_rate_limit_storage: str | None = None
    """A Redis URL where every process counts ``TWILIO_RATE_PER_SENDER`` and
    ``WALKER_RATE_PER_TENANT`` together; unset: each process holds them alone (needs the
    ``ratelimit`` extra)."""
    walker_rate_per_tenant: float | None = Field(default=None, gt=0, le=10_000)
    """At most this many sends per second from one tenant, on every channel together (unset:
    no limit); a send over it waits for its turn."""
    walker_email_templates: str | None = None
    """A directory of the host's own email templates (added to the built-in ones)."""
    walker_console_path: str = "/console"
    """Where the reviewer console is served (below the router's prefix); empty: not served."""
    walker_demo_token: SecretStr | None = None
    """The demo's API token (``walker-channels demo``); unset: a new one each start."""
    walker_retention_days: int | None = Field(default=None, gt=0)
    """Days message text is kept (events, decided drafts); unset: for ever. Counts stay."""

    walker_handoff_idle_timeout: float = Field(default=3600.0, ge=0)
    """Seconds a conversation taken over by a human may stay without a message either way
    before it goes back to the agent; 0: it stays with the human until released."""
    walker_handoff_keywords: str | None = None
    """Comma-separated words (``human,agent``) a person writes, alone, to ask for a human."""
    walker_reviewer_emails: str | None = None
    """Comma-separated addresses emailed when a draft waits or is overdue and when a handoff
    starts (needs ``SMTP_*``)."""
    walker_console_url: str | None = None
    """The page those emails link to (the reviewer console, or the host's own)."""
    walker_handoff_reasons: str | None = None
    """Comma-separated escalation reasons (``agent_error,agent_timeout``) that also hand the
    conversation to a human."""
    walker_sentiment: Literal["off", "vader"] = "off"
    """Score each inbound message's sentiment: ``vader`` (the ``sentiment`` extra) or ``off``."""
    walker_sentiment_threshold: float = Field(default=-0.5, ge=-1.0, le=1.0)
    """A message scoring below this gets ``WALKER_SENTIMENT_ACTION``."""
    walker_sentiment_action: SentimentAction = SentimentAction.ESCALATE
    """``escalate`` (the reply goes to review) or ``handoff`` (a human takes the conversation)."""

    langflow_base_url: str | None = None
    langflow_api_key: SecretStr | None = None
    langflow_flow_id: str | None = None
    langflow_tenant_flows: dict[str, str] = Field(default_factory=dict)
    """A flow per tenant, as JSON: ``{"acme": "flow-id"}``."""
    langflow_default_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """The confidence of a flow reply that reports none (Langflow reports none by default)."""
    langflow_confidence_path: str | None = None
    """Where in the flow's output the confidence is, when it reports one."""
    langflow_content_component: str | None = None
    """The component (its id) that gets the message content as a tweak; unset: the content is
    appended to ``input_value`` (see docs/message-content.md)."""

    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout: float = Field(default=30.0, gt=0, le=600)
    smtp_retries: int = Field(default=2, ge=0, le=10)

    meta_whatsapp_token: SecretStr | None = None
    """The Cloud API access token (a system user's); with the app secret and the phone number
    id it serves the ``meta-whatsapp`` channel."""
    meta_app_secret: SecretStr | None = None
    """The Meta app's secret: every webhook POST is signed with it."""
    meta_verify_token: SecretStr | None = None
    """What Meta's subscription check must send (``hub.verify_token``); unset: refused."""
    meta_phone_number_id: str | None = None
    """The business phone number's id at Meta: what replies go from and the tenant maps."""
    meta_graph_base_url: str = DEFAULT_GRAPH_BASE_URL
    meta_graph_version: str = DEFAULT_GRAPH_VERSION
    meta_templates: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Content SID -> Meta template, as JSON: ``{"HX...": {"name": "order_update",
    "language": "en_US"}}``."""

    telegram_bot_token: SecretStr | None = None
    """BotFather's token (``<bot id>:<secret>``); unset: no Telegram channel."""
    telegram_webhook_secret: SecretStr | None = None
    """The ``secret_token`` Telegram sends with every update; unset: every update is refused."""
    telegram_api_base_url: str = TELEGRAM_API_BASE_URL

    def __init__(self, **values: Any) -> None:
        """Read the environment (and ``_env_file``, when given); ``values`` win over both.

        A bad value (``SMTP_PORT=not-a-port``) raises :class:`ConfigurationError` naming the
        variables, never their values (a value may be a token or a password).
        """
        try:
            super().__init__(**values)
        except ValidationError as exc:
            names = (str(error["loc"][0]).upper() for error in exc.errors() if error["loc"])
            raise ConfigurationError(f"invalid settings: check {', '.join(names)}") from None
        except SettingsError as exc:
            # A JSON field (LANGFLOW_TENANT_FLOWS) that is not JSON: named by the field only.
            field = _SETTINGS_ERROR_FIELD.search(str(exc))
            name = field.group(1).upper() if field else "the JSON-valued variables"
            raise ConfigurationError(f"invalid settings: check {name} (it takes JSON)") from None

    def web_config(self) -> WebConfig:
        """The HTTP layer's part of these settings."""
        return WebConfig(
            twilio_auth_token=self.twilio_auth_token,
            twilio_webhook_signing_key=self.twilio_webhook_signing_key,
            public_url=self.walker_public_url,
            trust_forwarded_headers=self.walker_trust_forwarded_headers,
            max_body_bytes=self.walker_max_body_bytes,
            webhook_processing=self.walker_webhook_processing,
            allow_unsigned_webhooks=self.walker_allow_unsigned_webhooks,
            allowed_hosts=_comma_separated(self.walker_allowed_hosts),
            dev_mode=self.walker_dev_mode,
            console_path=self.walker_console_path.rstrip("/"),
        )

    def service_config(self) -> ServiceConfig:
        """The services' part: the pseudonym key, routing, the agent timeout, leases, bursts."""
        if self.walker_pseudonym_key is None:
            raise ConfigurationError(
                "set WALKER_PSEUDONYM_KEY: a long random secret that keeps people's pseudonyms "
                "stable (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return ServiceConfig(
            pseudonym_key=self.walker_pseudonym_key,
            routing=RoutingPolicy(threshold=self.walker_confidence_threshold),
            agent_timeout=timedelta(seconds=self.walker_agent_timeout),
            processing_lease=timedelta(seconds=self.walker_processing_lease),
            coalesce_bursts=self.walker_coalesce_bursts,
            handoff_keywords=frozenset(_comma_separated(self.walker_handoff_keywords)),
            handoff_reasons=self._handoff_reasons(),
            handoff_idle_timeout=_seconds_or_none(self.walker_handoff_idle_timeout),
            sentiment_threshold=self.walker_sentiment_threshold,
            sentiment_action=self.walker_sentiment_action,
        )

    def _handoff_reasons(self) -> frozenset[EscalationReason]:
        names = _comma_separated(self.walker_handoff_reasons)
        known = {reason.value for reason in EscalationReason}
        if any(name not in known for name in names):
            raise ConfigurationError(
                f"invalid settings: WALKER_HANDOFF_REASONS takes {', '.join(sorted(known))}"
            )
        return frozenset(EscalationReason(name) for name in names)

    def retention(self) -> timedelta | None:
        """How long message text is kept (``WALKER_RETENTION_DAYS``); ``None``: for ever."""
        days = self.walker_retention_days
        return None if days is None else timedelta(days=days)

    def database_url(self) -> str:
        """The database a server uses: ``WALKER_DATABASE_URL``, else the SQLite default."""
        return self.walker_database_url or DEFAULT_DATABASE_URL

    def twilio_config(self, channel: Channel) -> TwilioConfig:
        """The Twilio transport's settings for ``channel``."""
        from walker_channels.twilio import TwilioConfig

        if not (self.twilio_account_sid and self.twilio_auth_token):
            raise ConfigurationError(
                "Twilio is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_WHATSAPP_FROM, or pass whatsapp_transport= to build_services"
            )
        sms = channel is Channel.SMS
        sender = self.twilio_sms_from if sms else self.twilio_whatsapp_from
        return _validated(
            {**_TWILIO_VARIABLES, "sender": "TWILIO_SMS_FROM" if sms else "TWILIO_WHATSAPP_FROM"},
            lambda: TwilioConfig(
                account_sid=self.twilio_account_sid or "",
                auth_token=self.twilio_auth_token or SecretStr(""),
                channel=channel,
                api_base_url=self.twilio_api_base_url,
                sender=sender or None,
                status_callback=self._status_callback(channel),
                rate_per_sender=self.twilio_rate_per_sender,
                rate_limit_storage=self.walker_rate_limit_storage,
                http_client=self.twilio_http_client,
            ),
        )

    def smtp_config(self) -> SmtpConfig | None:
        """The SMTP transport's settings; ``None`` when ``SMTP_HOST`` is not set."""
        from walker_channels.email import SmtpConfig, SmtpSecurity

        if not self.smtp_host:
            return None
        if not self.smtp_from:
            raise ConfigurationError("set SMTP_FROM, the sender address of every email")
        return _validated(
            _SMTP_VARIABLES,
            lambda: SmtpConfig(
                host=self.smtp_host or "",
                port=self.smtp_port,
                username=self.smtp_username,
                password=self.smtp_password,
                sender=self.smtp_from or "",
                security=SmtpSecurity(self.smtp_security),
                timeout=self.smtp_timeout,
                retries=self.smtp_retries,
            ),
        )

    def langflow_config(self) -> LangflowConfig | None:
        """The Langflow runner's settings; ``None`` when no flow is configured."""
        from walker_channels.agents import LangflowConfig

        if not (self.langflow_base_url and self.langflow_flow_id):
            return None
        return _validated(
            _LANGFLOW_VARIABLES,
            lambda: LangflowConfig(
                base_url=self.langflow_base_url or "",
                api_key=self.langflow_api_key,
                flow_id=self.langflow_flow_id or "",
                tenant_flows=self.langflow_tenant_flows,
                timeout=self.walker_agent_timeout,
                default_confidence=self.langflow_default_confidence,
                confidence_path=self.langflow_confidence_path,
                content_component=self.langflow_content_component,
            ),
        )

    def meta_config(self) -> MetaConfig | None:
        """The Meta WhatsApp channel's settings; ``None`` unless the token, the app secret and
        the phone number id are all set."""
        from walker_channels.meta import MetaConfig

        if not (self.meta_whatsapp_token and self.meta_app_secret and self.meta_phone_number_id):
            return None
        token, secret = self.meta_whatsapp_token, self.meta_app_secret
        return _validated(
            _META_VARIABLES,
            lambda: MetaConfig.model_validate(
                {
                    "access_token": token,
                    "app_secret": secret,
                    "verify_token": self.meta_verify_token,
                    "phone_number_id": self.meta_phone_number_id,
                    "graph_base_url": self.meta_graph_base_url,
                    "graph_version": self.meta_graph_version,
                    "templates": self.meta_templates,
                }
            ),
        )

    def telegram_config(self) -> TelegramConfig | None:
        """The Telegram channel's settings; ``None`` when ``TELEGRAM_BOT_TOKEN`` is not set."""
        from walker_channels.telegram import TelegramConfig

        if self.telegram_bot_token is None:
            return None
        token = self.telegram_bot_token
        return _validated(
            _TELEGRAM_VARIABLES,
            lambda: TelegramConfig(
                bot_token=token,
                webhook_secret=self.telegram_webhook_secret,
                api_base_url=self.telegram_api_base_url,
            ),
        )

    def _status_callback(self, channel: Channel) -> str | None:
        if channel is Channel.WHATSAPP and self.walker_status_callback_url:
            return self.walker_status_callback_url
        if not self.walker_public_url:
            return None
        return self.walker_public_url.rstrip("/") + STATUS_CALLBACK_PATHS[channel]


_TELEGRAM_VARIABLES = {
    "bot_token": "TELEGRAM_BOT_TOKEN",
    "webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
    "api_base_url": "TELEGRAM_API_BASE_URL",
}
_SMTP_VARIABLES = {
    "host": "SMTP_HOST",
    "port": "SMTP_PORT",
    "username": "SMTP_USERNAME",
    "password": "SMTP_PASSWORD",
    "sender": "SMTP_FROM",
    "security": "SMTP_SECURITY",
    "timeout": "SMTP_TIMEOUT",
    "retries": "SMTP_RETRIES",
}
_TWILIO_VARIABLES = {
    "account_sid": "TWILIO_ACCOUNT_SID",
    "auth_token": "TWILIO_AUTH_TOKEN",
    "api_base_url": "TWILIO_API_BASE_URL",
    "status_callback": "WALKER_STATUS_CALLBACK_URL or WALKER_PUBLIC_URL",
    "rate_limit_storage": "WALKER_RATE_LIMIT_STORAGE",
}
_LANGFLOW_VARIABLES = {
    "base_url": "LANGFLOW_BASE_URL",
    "api_key": "LANGFLOW_API_KEY",
    "flow_id": "LANGFLOW_FLOW_ID",
    "tenant_flows": "LANGFLOW_TENANT_FLOWS",
    "default_confidence": "LANGFLOW_DEFAULT_CONFIDENCE",
    "confidence_path": "LANGFLOW_CONFIDENCE_PATH",
    "content_component": "LANGFLOW_CONTENT_COMPONENT",
    "timeout": "WALKER_AGENT_TIMEOUT",
}
_META_VARIABLES = {
    "access_token": "META_WHATSAPP_TOKEN",
    "app_secret": "META_APP_SECRET",
    "verify_token": "META_VERIFY_TOKEN",
    "phone_number_id": "META_PHONE_NUMBER_ID",
    "graph_base_url": "META_GRAPH_BASE_URL",
    "graph_version": "META_GRAPH_VERSION",
    "templates": "META_TEMPLATES",
}


def _seconds_or_none(seconds: float) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds > 0 else None


def _comma_separated(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _validated(variables: Mapping[str, str], build: Callable[[], T]) -> T:
    try:
        return build()
    except ValidationError as exc:
        # The variables' names and our validators' own words: never a value.
        problems = [
            variables.get(str(error["loc"][0]), str(error["loc"][0]))
            if error["loc"]
            else str(error["msg"]).removeprefix("Value error, ")
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise ConfigurationError(f"invalid settings: {'; '.join(problems)}") from None
