"""``GET`` and ``POST /api/v1/channels/{name}/webhook`` for every channel with a
:class:`~walker_channels.ports.ChannelWebhook` (Meta's WhatsApp, Telegram, a host's own).

The channel's webhook verifies the request and parses it; this endpoint does the rest, the
same for every channel: each message accepted once and dispatched, each delivery update
applied, and the webhook's own answer returned (Meta's subscription check echoes a challenge).
"""

from __future__ import annotations

from walker_channels.channels import ChannelSpec
from walker_channels.models import Principal, WebhookRequest
from walker_channels.ports import AfterResponse, ChannelWebhook, Clock, Dispatcher
from walker_channels.services import ConversationService, DeliveryTracker
from walker_channels.web.auth import Access
from walker_channels.web.channel_endpoints import CHANNELS
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.inbound import accept_and_dispatch
from walker_channels.web.requests import NeutralRequest, NeutralResponse


class ChannelWebhookEndpoints:
    """The webhook of one registered channel."""

    def __init__(
        self,
        spec: ChannelSpec,
        webhook: ChannelWebhook,
        *,
        conversations: ConversationService,
        delivery: DeliveryTracker,
        dispatcher: Dispatcher,
        clock: Clock,
    ) -> None:
        self._spec = spec
        self._webhook = webhook
        self._conversations = conversations
        self._delivery = delivery
        self._dispatcher = dispatcher
        self._clock = clock

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves: one path, GET (subscription checks) and POST."""
        label = self._spec.label
        return [
            self._endpoint("GET", "webhook_check", f"{label} webhook subscription check"),
            self._endpoint("POST", "webhook", f"{label} inbound webhook (signed by the provider)"),
        ]

    def _endpoint(self, method: str, kind: str, summary: str) -> Endpoint:
        name = self._spec.name.value
        return Endpoint(
            name=f"{name.replace('-', '_')}_{kind}",
            method=method,
            path=f"{CHANNELS}/{name}/webhook",
            access=Access.PROVIDER,
            handler=self.receive,
            summary=summary,
            tag=name,
        )

    async def receive(
        self, request: NeutralRequest, principal: Principal | None
    ) -> NeutralResponse:
        """Verify and parse through the channel's webhook, accept, dispatch, apply, answer."""
        batch = await self._webhook.receive(
            WebhookRequest(
                method=request.method,
                url=request.url,
                headers=request.headers,
                body=request.body,
                query=dict(request.query),
            ),
            received_at=self._clock.now(),
        )
        after: list[AfterResponse] = []
        for message in batch.messages:
            work = await accept_and_dispatch(message, self._conversations, self._dispatcher)
            if work is not None:
                after.append(work)
        for update in batch.statuses:
            await self._delivery.apply(update)
        reply = batch.reply
        return NeutralResponse(
            status=reply.status,
            body=reply.body,
            headers={"content-type": reply.media_type},
            after=tuple(after),
        )
