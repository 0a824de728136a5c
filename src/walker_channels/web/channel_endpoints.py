"""Sending on a channel for a tenant: proactive sends on Twilio's WhatsApp and SMS and on every
channel with a generic webhook (Meta's WhatsApp, Telegram, a host's own); email is in
``email_endpoints``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from walker_channels.channels import ChannelSpec
from walker_channels.models import Channel, Principal
from walker_channels.services import ProactiveSender, SendReceipt
from walker_channels.web.auth import Access, require_tenant
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralRequest, NeutralResponse
from walker_channels.web.schemas import SendMessageRequest, SendSmsRequest, SendWhatsAppRequest

CHANNELS = "/api/v1/channels"

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

    One class for every channel: the spec picks the path, the request model (Twilio's
    WhatsApp and SMS have their own; the rest share :class:`SendMessageRequest`) and the
    recipient's address, checked strictly by the spec's address rule (a person typed it): 422
    when invalid. Outside the channel's service window only a template goes out (422).
    """

    def __init__(self, spec: ChannelSpec, proactive: ProactiveSender) -> None:
        if spec.name == Channel.EMAIL:
            raise ValueError("email sends are the email endpoints'")
        self._spec = spec
        self._channel = spec.name
        self._request = _REQUESTS.get(spec.name, SendMessageRequest)
        self._proactive = proactive

    def endpoints(self) -> list[Endpoint]:
        """The endpoints this group serves."""
        name = self._channel.value
        return [
            Endpoint(
                name=f"send_{name.replace('-', '_')}",
                method="POST",
                path=f"{CHANNELS}/{name}/send",
                access=Access.TENANT_MEMBER,
                handler=self.send,
                summary=_SUMMARIES.get(self._channel) or _summary(self._spec),
                tag="channels",
                body=self._request,
                response=SendReceipt,
                errors=(409,),
            )
        ]

    async def send(self, request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        """Send once per idempotency key; the receipt says whether it went out."""
        body = request.json_body(self._request)
        require_tenant(principal, body.tenant_id)
        receipt = await self._proactive.send(
            tenant_id=body.tenant_id,
            to=self._spec.recipient(body.to),
            idempotency_key=body.idempotency_key,
            text=body.text,
            media=body.media(),
            template=body.template,
        )
        return NeutralResponse.json(receipt)


def _summary(spec: ChannelSpec) -> str:
    window = spec.service_window
    if window is None:
        return f"Send a {spec.label} message for a tenant (text and/or a media URL)"
    hours = f"{window.total_seconds() / 3600:g} h"
    return f"Send a {spec.label} message for a tenant (text within {hours}, else a template)"
