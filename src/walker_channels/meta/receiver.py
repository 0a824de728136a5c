"""The Meta channel's :class:`~walker_channels.ports.ChannelWebhook`: check, verify, parse."""

from __future__ import annotations

from datetime import datetime

from walker_channels.exceptions import InvalidInput
from walker_channels.meta.config import MetaConfig
from walker_channels.meta.signature import subscription_challenge, verify_signature
from walker_channels.meta.webhooks import parse_notification
from walker_channels.models import WebhookBatch, WebhookReply, WebhookRequest
from walker_channels.signatures import HUB_SIGNATURE_HEADER


class MetaWebhook:
    """Answers Meta's subscription check (``GET``) and reads its signed notifications (``POST``).

    ``GET`` echoes ``hub.challenge`` when ``hub.verify_token`` is the configured one; ``POST``
    verifies ``X-Hub-Signature-256`` over the raw body before reading a byte of it, then
    returns every message and status in it, answered with an empty 200.
    """

    def __init__(self, config: MetaConfig) -> None:
        self._config = config

    async def receive(self, request: WebhookRequest, *, received_at: datetime) -> WebhookBatch:
        """The batch of one webhook request; raises ``InvalidSignature`` or ``InvalidInput``."""
        method = request.method.upper()
        if method == "GET":
            challenge = subscription_challenge(request.query, self._config.verify_token)
            return WebhookBatch(reply=WebhookReply(body=challenge.encode()))
        if method != "POST":
            raise InvalidInput("Meta's webhook takes GET (subscription check) and POST only")
        header = request.headers.get(HUB_SIGNATURE_HEADER.lower())
        verify_signature(self._config.app_secret, request.body, header)
        messages, statuses = parse_notification(
            request.body, received_at=received_at, media_url=self._config.media_url
        )
        return WebhookBatch(messages=messages, statuses=statuses)
