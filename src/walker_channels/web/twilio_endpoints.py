"""Twilio's endpoints: the inbound message webhook and the delivery status callback.

Both check the signature first (403, nothing stored, when it fails) and answer with empty
TwiML. The webhook only *accepts* the message before answering; the agent runs after the
answer is sent (or before it, when configured inline). A duplicate delivery is accepted as
a no-op and gets the same 200.
"""

from __future__ import annotations

import logging
from functools import partial

from walker_channels.app.config import WebConfig, WebhookProcessing
from walker_channels.models import Principal
from walker_channels.ports import Clock
from walker_channels.services import AcceptOutcome, ConversationService, DeliveryTracker
from walker_channels.twilio import LEDGER_KEY_PARAM, parse_inbound_form, parse_status_callback
from walker_channels.web.auth import Access
from walker_channels.web.channel_endpoints import CHANNELS
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import FORM_CONTENT_TYPE, NeutralRequest, NeutralResponse
from walker_channels.web.schemas import TwilioMessageForm, TwilioStatusForm
from walker_channels.web.webhook_auth import WebhookAuthenticator

logger = logging.getLogger("walker_channels.web.webhooks")


class TwilioEndpoints:
    """The WhatsApp/SMS webhook and the status callback."""

    def __init__(
        self,
        *,
        config: WebConfig,
        conversations: ConversationService,
        delivery: DeliveryTracker,
        clock: Clock,
    ) -> None:
        self._auth = WebhookAuthenticator(config)
        self._processing = config.webhook_processing
        self._conversations = conversations
        self._delivery = delivery
        self._clock = clock

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        return [
            Endpoint(
                name="whatsapp_webhook",
                method="POST",
                path=f"{CHANNELS}/whatsapp/webhook",
                access=Access.TWILIO,
                handler=self.webhook,
                summary="Twilio inbound message webhook (signed with X-Twilio-Signature)",
                tag="twilio",
                body=TwilioMessageForm,
                body_media_type=FORM_CONTENT_TYPE,
            ),
            Endpoint(
                name="whatsapp_status",
                method="POST",
                path=f"{CHANNELS}/whatsapp/status",
                access=Access.TWILIO,
                handler=self.status,
                summary="Twilio delivery status callback (signed with X-Twilio-Signature)",
                tag="twilio",
                body=TwilioStatusForm,
                body_media_type=FORM_CONTENT_TYPE,
            ),
        ]

    async def webhook(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Verify, accept once, and answer; the agent's work runs after (or before) the answer."""
        form = self._auth.form(request)
        message = parse_inbound_form(form.params(), received_at=self._clock.now())
        outcome = await self._conversations.accept(message)
        if outcome is not AcceptOutcome.ACCEPTED or self._processing is WebhookProcessing.QUEUE:
            return NeutralResponse.twiml()
        work = partial(self._process, message.provider_message_id)
        if self._processing is WebhookProcessing.INLINE:
            await work()
            return NeutralResponse.twiml()
        return NeutralResponse.twiml(after=(work,))

    async def status(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Verify and apply a delivery status (late, repeated and out-of-order ones are no-ops)."""
        form = self._auth.form(request)
        update = parse_status_callback(
            form.params(),
            received_at=self._clock.now(),
            ledger_key=request.query.get(LEDGER_KEY_PARAM),
        )
        await self._delivery.apply(update)
        return NeutralResponse.twiml()

    async def _process(self, message_id: str) -> None:
        try:
            await self._conversations.process(message_id)
        except Exception:
            # The message stays queued: process_pending finishes it once its lease runs out.
            logger.exception("processing message %s failed; it stays queued", message_id)
