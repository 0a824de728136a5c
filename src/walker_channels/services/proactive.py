"""Proactive sends: a tenant writes first, within WhatsApp's 24-hour rule."""

from __future__ import annotations

from pydantic import ValidationError

from walker_channels.exceptions import InvalidInput, OutsideServiceWindow
from walker_channels.models import Address, Channel, Media, OutboundMessage, WhatsAppTemplate
from walker_channels.ports import Clock, EventStore
from walker_channels.services.config import ServiceConfig
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.sending import SendContext, SendPurpose, SendReceipt
from walker_channels.timing import service_window_open


class ProactiveSender:
    """Sends a message nobody asked for, once per caller key.

    Whether the caller may act for ``tenant_id`` is decided before (by the web layer); this
    service checks what WhatsApp allows: free text and media only within 24 hours of the
    person's last message, approved templates at any time.
    """

    def __init__(
        self, *, config: ServiceConfig, events: EventStore, sender: OutboundSender, clock: Clock
    ) -> None:
        self._config = config
        self._events = events
        self._sender = sender
        self._clock = clock

    async def send(
        self,
        *,
        tenant_id: str,
        to: Address,
        idempotency_key: str,
        text: str | None = None,
        media: tuple[Media, ...] = (),
        template: WhatsAppTemplate | None = None,
        sender: Address | None = None,
        purpose: SendPurpose = SendPurpose.PROACTIVE,
        session_id: str | None = None,
    ) -> SendReceipt:
        """Send to ``to`` for ``tenant_id``; a repeat with the same key sends nothing again.

        ``purpose`` says what the send is (a human's reply in a conversation they took over
        is :attr:`SendPurpose.HUMAN`), ``session_id`` the conversation session it belongs to.

        Raises :class:`InvalidInput` for an unusable message and
        :class:`OutsideServiceWindow` for WhatsApp free text or media outside the window.
        """
        if not idempotency_key.strip():
            raise InvalidInput("an idempotency key is required, so a retry cannot send twice")
        if to.channel is Channel.EMAIL:
            raise InvalidInput("proactive sends are for WhatsApp and SMS; use the email service")
        message = _message(to, text, media, template, sender)
        if message.channel is Channel.WHATSAPP and message.template is None:
            await self._require_window(tenant_id, to)
        context = SendContext(
            purpose=purpose, cause=idempotency_key, tenant_id=tenant_id, session_id=session_id
        )
        return await self._sender.send(message, context)

    async def _require_window(self, tenant_id: str, to: Address) -> None:
        participant = self._config.pseudonym(to.value)
        last = await self._events.last_inbound_at(tenant_id, Channel.WHATSAPP, participant)
        if not service_window_open(last, self._clock.now()):
            raise OutsideServiceWindow(
                "this person has not written in the last 24 hours, so WhatsApp accepts only an "
                "approved template: send a template (its ContentSid and variables) instead of "
                "free text or media"
            )


def _message(
    to: Address,
    text: str | None,
    media: tuple[Media, ...],
    template: WhatsAppTemplate | None,
    sender: Address | None,
) -> OutboundMessage:
    try:
        return OutboundMessage(
            channel=to.channel, to=to, sender=sender, text=text, media=media, template=template
        )
    except ValidationError as exc:
        # Only the validators' own words: pydantic's default text would echo the input.
        reasons = "; ".join(
            str(error["msg"]) for error in exc.errors(include_url=False, include_input=False)
        )
        raise InvalidInput(f"the message cannot be sent: {reasons}") from None
