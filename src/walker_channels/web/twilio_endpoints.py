"""Twilio's endpoints: the inbound message webhook and the delivery status callback.

One :class:`TwilioEndpoints` per channel (``/api/v1/channels/whatsapp/...`` and
``/api/v1/channels/sms/...``), alike in every way: signature, duplicates, tenant, review. The
message's own ``From``/``To`` say which channel it came on, and the reply goes back on it.

Both check the signature first (403, nothing stored, when it fails) and answer with empty
TwiML. The webhook only *accepts* the message before answering, then hands it to the
services' :class:`~walker_channels.ports.Dispatcher`: the agent runs after the answer is
sent, before it, in a worker or on a task engine. A duplicate delivery is accepted as a no-op
and gets the same 200.
"""

from __future__ import annotations

import logging

from walker_channels.app.config import WebConfig
from walker_channels.channels import BUILT_IN_LABELS
from walker_channels.models import Channel, Principal
from walker_channels.ports import Clock, Dispatcher
from walker_channels.services import ConversationService, DeliveryTracker
from walker_channels.twilio import LEDGER_KEY_PARAM, parse_inbound_form, parse_status_callback
from walker_channels.web.auth import Access
from walker_channels.web.channel_endpoints import CHANNELS
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.inbound import accept_and_dispatch
from walker_channels.web.requests import FORM_CONTENT_TYPE, NeutralRequest, NeutralResponse
from walker_channels.web.schemas import TwilioMessageForm, TwilioStatusForm
from walker_channels.web.webhook_auth import WebhookAuthenticator

logger = logging.getLogger("walker_channels.web.webhooks")

TWILIO_CHANNELS = frozenset({Channel.WHATSAPP, Channel.SMS})
"""The channels Twilio's webhooks serve."""


class TwilioEndpoints:
    """The inbound webhook and the status callback of one channel (WhatsApp or SMS)."""

    def __init__(
        self,
        *,
        channel: Channel = Channel.WHATSAPP,
        config: WebConfig,
        conversations: ConversationService,
        delivery: DeliveryTracker,
        clock: Clock,
        dispatcher: Dispatcher,
    ) -> None:
        if channel not in TWILIO_CHANNELS:
            raise ValueError("Twilio webhooks are for WhatsApp and SMS")
        self._channel = channel
        self._auth = WebhookAuthenticator(config)
        self._dispatcher = dispatcher
        self._conversations = conversations
        self._delivery = delivery
        self._clock = clock

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        channel, name = self._channel.value, BUILT_IN_LABELS[self._channel]
        return [
            Endpoint(
                name=f"{channel}_webhook",
                method="POST",
                path=f"{CHANNELS}/{channel}/webhook",
                access=Access.PROVIDER,
                handler=self.webhook,
                summary=f"Twilio inbound {name} webhook (signed with X-Twilio-Signature)",
                tag="twilio",
                body=TwilioMessageForm,
                body_media_type=FORM_CONTENT_TYPE,
            ),
            Endpoint(
                name=f"{channel}_status",
                method="POST",
                path=f"{CHANNELS}/{channel}/status",
                access=Access.PROVIDER,
                handler=self.status,
                summary=f"Twilio {name} delivery status callback (signed with X-Twilio-Signature)",
                tag="twilio",
                body=TwilioStatusForm,
                body_media_type=FORM_CONTENT_TYPE,
            ),
        ]

    async def webhook(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Verify, accept once, dispatch, and answer (the dispatcher says where the agent runs)."""
        form = self._auth.form(request)
        message = parse_inbound_form(form.params(), received_at=self._clock.now())
        if message.channel != self._channel:
            # Still answered on the message's own channel: refusing it would lose it for good.
            logger.warning(
                "a %s message %s arrived at the %s webhook: check the sender's webhook URL",
                message.channel.value,
                message.provider_message_id,
                self._channel.value,
            )
        work = await accept_and_dispatch(message, self._conversations, self._dispatcher)
        return NeutralResponse.twiml(after=() if work is None else (work,))

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
