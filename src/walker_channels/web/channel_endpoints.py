"""Sending on a channel for a tenant: WhatsApp proactive sends (email is in ``email_endpoints``)."""

from __future__ import annotations

from walker_channels.models import Channel, Principal
from walker_channels.phones import phone_address
from walker_channels.services import ProactiveSender, SendReceipt
from walker_channels.web.auth import Access, require_tenant
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse
from walker_channels.web.schemas import SendWhatsAppRequest

CHANNELS = "/api/v1/channels"


class WhatsAppSendEndpoints:
    """``POST /api/v1/channels/whatsapp/send`` for members of the tenant (or superusers)."""

    def __init__(self, proactive: ProactiveSender) -> None:
        self._proactive = proactive

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        return [
            Endpoint(
                name="send_whatsapp",
                method="POST",
                path=f"{CHANNELS}/whatsapp/send",
                access=Access.TENANT_MEMBER,
                handler=self.send,
                summary="Send a WhatsApp message for a tenant (text within 24 h, else a template)",
                tag="channels",
                body=SendWhatsAppRequest,
                response=SendReceipt,
            )
        ]

    async def send(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Send once per idempotency key; the receipt says whether it went out."""
        body = request.json_body(SendWhatsAppRequest)
        require_tenant(principal, body.tenant_id)
        receipt = await self._proactive.send(
            tenant_id=body.tenant_id,
            to=phone_address(body.to, Channel.WHATSAPP),
            idempotency_key=body.idempotency_key,
            text=body.text,
            media=body.media(),
            template=body.template,
        )
        return NeutralResponse.json(receipt)
