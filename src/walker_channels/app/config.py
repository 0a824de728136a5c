"""How the HTTP layer behaves: signature checks, public URL, body limit, webhook processing."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr, field_validator

from walker_channels.models.base import Frozen

DEFAULT_MAX_BODY_BYTES = 1_000_000
"""The largest request body the endpoints read (1 MB; ``WALKER_MAX_BODY_BYTES``)."""


class WebhookProcessing(StrEnum):
    """When the agent runs for an accepted webhook."""

    BACKGROUND = "background"
    """After the response is sent (the framework's background tasks): Twilio is answered fast."""
    INLINE = "inline"
    """Before the response is sent: simpler to reason about, but Twilio waits at most 15 s."""
    QUEUE = "queue"
    """Not in the web process: the message stays queued for ``walker-channels worker``."""


class WebConfig(Frozen):
    """Settings of the HTTP layer (built from :class:`~walker_channels.app.settings.Settings`)."""

    twilio_auth_token: SecretStr | None = None
    """Verifies HMAC-SHA1 signatures. Without it (or a signing key) webhooks are refused."""
    twilio_webhook_signing_key: SecretStr | None = None
    """A webhook shared key, for requests Twilio signs with HMAC-SHA256."""
    public_url: str | None = None
    """The public base URL Twilio calls (scheme, host, optional port and path prefix)."""
    trust_forwarded_headers: bool = False
    """Rebuild the public URL from ``X-Forwarded-Proto``/``-Host`` (only behind a trusted proxy)."""
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    webhook_processing: WebhookProcessing = WebhookProcessing.BACKGROUND
    allow_unsigned_webhooks: bool = False
    """Development only: accept webhooks without checking signatures when no token is set."""
    allowed_hosts: tuple[str, ...] = ()
    """Without ``public_url``: the hosts (``name`` or ``name:port``) webhooks may be sent to."""
    dev_mode: bool = False
    """Development only: without ``public_url`` or ``allowed_hosts``, verify for any host."""
    console_path: str = Field(default="/console", pattern=r"^(/[\w.~-]+)*$")
    """Where the reviewer console is served (under the adapter's prefix); ``""``: not at all."""

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("the public URL must start with http:// or https://")
        return value
