"""Settings from the environment (pydantic-settings), read only when ``Settings()`` is called.

Each field is named after its environment variable (``TWILIO_AUTH_TOKEN`` -> ``twilio_auth_token``).
Secrets are :class:`~pydantic.SecretStr`, so printing the settings never shows them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from walker_channels.app.config import DEFAULT_MAX_BODY_BYTES, WebConfig, WebhookProcessing
from walker_channels.twilio.config import DEFAULT_API_BASE_URL

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./walker-channels.db"


class Settings(BaseSettings):
    """Everything walker-channels reads from the environment."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = None
    """The WhatsApp sender, ``whatsapp:+E164`` or ``+E164``."""
    twilio_api_base_url: str = DEFAULT_API_BASE_URL
    twilio_webhook_signing_key: SecretStr | None = None
    """Webhook shared key for HMAC-SHA256 signed webhooks (optional)."""

    walker_database_url: str = DEFAULT_DATABASE_URL
    walker_public_url: str | None = None
    walker_pseudonym_key: SecretStr | None = None
    walker_confidence_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    walker_trust_forwarded_headers: bool = False
    walker_max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    walker_webhook_processing: WebhookProcessing = WebhookProcessing.BACKGROUND
    walker_allow_unsigned_webhooks: bool = False
    """Development only: accept unsigned webhooks while no Twilio auth token is configured."""
    walker_status_callback_url: str | None = None
    """Where Twilio reports delivery; default: ``WALKER_PUBLIC_URL`` + the status path."""
    walker_sweep_interval: float = Field(default=30.0, ge=0)
    """Seconds between recovery sweeps (unfinished messages, overdue drafts); 0 turns them off."""
    walker_migrate_on_start: bool = True
    """Run the database migrations when the services start."""
    walker_email_templates: str | None = None
    """A directory of the host's own email templates (added to the built-in ones)."""

    langflow_base_url: str | None = None
    langflow_api_key: SecretStr | None = None
    langflow_flow_id: str | None = None

    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"

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
        )
