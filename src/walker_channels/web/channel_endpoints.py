"""Sending on a channel for a tenant: WhatsApp and SMS proactive sends (email is in
``email_endpoints``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from walker_channels.models import Channel, Principal
from walker_channels.phones import phone_address
from walker_channels.services import ProactiveSender, SendReceipt
from walker_channels.web.auth import Access, require_tenant
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse
from walker_channels.web.schemas import SendMessageRequest, SendSmsRequest, SendWhatsAppRequest

CHANNELS = "/api/v1/channels"

CHANNEL_NAMES: Mapping[Channel, str] = MappingProxyType(
    {Channel.WHATSAPP: "WhatsApp", Channel.SMS: "SMS", Channel.EMAIL: "email"}
)
"""How the endpoints' summaries name each channel."""

_REQUESTS: Mapping[Channel, type[SendMessageRequest]] = MappingProxyType(
    {Channel.WHATSAPP: SendWhatsAppRequest, Channel.SMS: SendSmsRequest}
)
_SUMMARIES = MappingProxyType(
    {
        Channel.WHATSAPP: "Send a WhatsApp message for a tenant (text within 24 h, else a "
        "template)",
        Channel.SMS: "Send an SMS for a tenant (text and/or a media URL, or a content template)",
    }
)


class SendEndpoints:
    """``POST /api/v1/channels/<channel>/send`` for members of the tenant (or superusers).

    One class for WhatsApp and SMS: the channel picks the path, the request model and the
    recipient's address. The number is checked strictly (a person typed it): 422 when invalid.
    """

    def __init__(self, channel: Channel, proactive: ProactiveSender) -> None:
        if channel not in _REQUESTS:
            raise ValueError("proactive send endpoints are for WhatsApp and SMS")
        self._channel = channel
        self._request = _REQUESTS[channel]
        self._proactive = proactive

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        return [
            Endpoint(
                name=f"send_{self._channel.value}",
                method="POST",
                path=f"{CHANNELS}/{self._channel.value}/send",
                access=Access.TENANT_MEMBER,
                handler=self.send,
                summary=_SUMMARIES[self._channel],
                tag="channels",
                body=self._request,
                response=SendReceipt,
            )
        ]

    async def send(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Send once per idempotency key; the receipt says whether it went out."""
        body = request.json_body(self._request)
        require_tenant(principal, body.tenant_id)
        receipt = await self._proactive.send(
            tenant_id=body.tenant_id,
            to=phone_address(body.to, self._channel),
            idempotency_key=body.idempotency_key,
            text=body.text,
            media=body.media(),
            template=body.template,
        )
        return NeutralResponse.json(receipt)
