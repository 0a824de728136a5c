"""Telegram's webhook: checks the secret token, then parses the update.

Telegram sends the ``secret_token`` given to ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header of every update. Without a configured secret, or
with a missing or wrong header, every request is refused (fail closed): anyone could post an
update to the URL otherwise. A tap on an inline button is answered in the webhook's reply
(``answerCallbackQuery``, a Bot API call the reply may carry), so the button stops spinning
at once; the agent's answer follows as a message.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from datetime import datetime

from pydantic import SecretStr

from walker_channels.exceptions import InvalidInput, InvalidSignature
from walker_channels.models import WebhookBatch, WebhookReply, WebhookRequest
from walker_channels.telegram.config import TelegramConfig
from walker_channels.telegram.updates import ParsedUpdate, parse_update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret

log = logging.getLogger(__name__)


def verify_secret(headers: Mapping[str, str], secret: SecretStr | None) -> None:
    """Raise :class:`InvalidSignature` unless ``headers`` (by lower-case name) carry
    ``secret``; compared in constant time."""
    if secret is None:
        raise InvalidSignature(
            "no Telegram webhook secret is configured (TELEGRAM_WEBHOOK_SECRET): every "
            "update is refused"
        )
    given = headers.get(SECRET_HEADER.lower())
    if not given:
        raise InvalidSignature(f"the {SECRET_HEADER} header is missing")
    if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        raise InvalidSignature(f"the {SECRET_HEADER} header does not match the secret")


class TelegramWebhook:
    """The :class:`~walker_channels.ports.ChannelWebhook` of one bot."""

    def __init__(self, config: TelegramConfig) -> None:
        self._secret = config.webhook_secret
        self._bot_id = config.bot_id

    async def receive(self, request: WebhookRequest, *, received_at: datetime) -> WebhookBatch:
        """Verify the secret, then parse the update; other kinds of update are ignored."""
        verify_secret(request.headers, self._secret)
        if request.method != "POST":
            raise InvalidInput("Telegram posts updates: the webhook takes POST only")
        update = parse_update(request.body, bot_id=self._bot_id, received_at=received_at)
        if update.message is None:
            # The kind only (an update field's name): the content may be a person's.
            log.debug("ignoring Telegram update %d of kind %r", update.update_id, update.kind[:32])
        return WebhookBatch(
            messages=(update.message,) if update.message is not None else (),
            reply=_reply(update),
        )


def _reply(update: ParsedUpdate) -> WebhookReply:
    if update.callback_query_id is None:
        return WebhookReply()
    answer = {"method": "answerCallbackQuery", "callback_query_id": update.callback_query_id}
    return WebhookReply(body=json.dumps(answer).encode(), media_type="application/json")
