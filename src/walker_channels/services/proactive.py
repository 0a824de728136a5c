"""Proactive sends: a tenant writes first, within the channel's service window (WhatsApp: 24 h)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import ValidationError

from walker_channels.exceptions import InvalidInput, OutsideServiceWindow
from walker_channels.models import Address, Channel, Media, OutboundMessage, WhatsAppTemplate
from walker_channels.ports import Clock, EventStore, TenantSettingsStore
from walker_channels.services.config import ServiceConfig
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.sending import SendContext, SendPurpose, SendReceipt
from walker_channels.timing import service_window_open


class ProactiveSender:
    """Sends a message nobody asked for, once per caller key.

    Whether the caller may act for ``tenant_id`` is decided before (by the web layer); this
    service checks what WhatsApp allows: free text and media only within 24 hours of the
    person's last message, approved templates at any time. With ``tenant_settings``, a
    proactive send outside the window sends the tenant's fallback template instead of failing
    (:class:`~walker_channels.models.FallbackTemplate`; the receipt says so).
    """

    def __init__(
        self,
        *,
        config: ServiceConfig,
        events: EventStore,
        sender: OutboundSender,
        clock: Clock,
        tenant_settings: TenantSettingsStore | None = None,
    ) -> None:
        self._config = config
        self._events = events
        self._sender = sender
        self._clock = clock
        self._tenant_settings = tenant_settings

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

        Raises :class:`InvalidInput` for an unusable message,
        :class:`OutsideServiceWindow` for WhatsApp free text or media outside the window (unless
        the tenant has a fallback template) and
        :class:`~walker_channels.exceptions.OptedOut` for a person who opted out.
        """
        if not idempotency_key.strip():
            raise InvalidInput("an idempotency key is required, so a retry cannot send twice")
        if to.channel is Channel.EMAIL:
            raise InvalidInput("proactive sends are for WhatsApp and SMS; use the email service")
        message = _message(to, text, media, template, sender)
        window = self._sender.service_window(message.channel)
        fallback = None
        if window is not None and message.template is None:
            fallback = await self._window_fallback(tenant_id, message, window, purpose)
        context = SendContext(
            purpose=purpose,
            cause=idempotency_key,
            tenant_id=tenant_id,
            session_id=session_id,
            data={"fallback_template": True} if fallback else {},
        )
        receipt = await self._sender.send(fallback or message, context)
        return receipt.model_copy(update={"fallback_template": True}) if fallback else receipt

    async def _window_fallback(
        self, tenant_id: str, message: OutboundMessage, window: timedelta, purpose: SendPurpose
    ) -> OutboundMessage | None:
        """``None`` within the window; outside it the tenant's fallback template (proactive
        sends only: a human's reply stays theirs), else :class:`OutsideServiceWindow`."""
        to = message.to
        participant = self._config.pseudonym(to.value)
        last = await self._events.last_inbound_at(tenant_id, to.channel, participant)
        if service_window_open(last, self._clock.now(), window):
            return None
        if purpose is SendPurpose.PROACTIVE:
            template = await fallback_template(self._tenant_settings, tenant_id, message.text, last)
            if template is not None:
                replaced: OutboundMessage = message.replace(text=None, media=(), template=template)
                return replaced
        raise OutsideServiceWindow(
            f"this person has not written in the last {_hours(window)}, so {to.channel.value} "
            "accepts only an approved template: send a template (its ContentSid and "
            "variables) instead of free text or media, or give the tenant a fallback template"
        )


async def fallback_template(
    settings: TenantSettingsStore | None,
    tenant_id: str,
    text: str | None,
    last_message_at: datetime | None,
) -> WhatsAppTemplate | None:
    """The tenant's fallback template filled in for ``text``, if the tenant has one."""
    if settings is None:
        return None
    fallback = (await settings.get(tenant_id)).fallback_template
    return None if fallback is None else fallback.fill(text=text, last_message_at=last_message_at)


def _hours(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} hours"


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
