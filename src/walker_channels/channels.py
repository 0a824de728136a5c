"""Channels as data: a name, its transport and rules, and its webhook, registered with the
services (``build_services(channels=[...])``).

The flows never branch on a channel's name. What differs between channels is here: how to
send (the transport; its text limit through :class:`~walker_channels.ports.TextLimited`),
how a person's message arrives (the :class:`~walker_channels.ports.ChannelWebhook`, served at
``/api/v1/channels/{name}/webhook``), and how long after the person's last message free text
may be sent (``service_window``; outside it only a template goes out), and what a recipient
a person typed must look like (``address``: E.164 for WhatsApp, a chat id for Telegram).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from walker_channels.exceptions import InvalidAddress
from walker_channels.models import Address, Channel
from walker_channels.phones import normalize_phone
from walker_channels.ports import ChannelWebhook, MessageTransport
from walker_channels.timing import SERVICE_WINDOW

AddressRule = Callable[[str], str]
"""Validates and normalises a recipient a person typed; raises
:class:`~walker_channels.exceptions.InvalidAddress` (or a subclass) with a message that never
repeats the value."""

MAX_ADDRESS_CHARS = 64


def any_address(raw: str) -> str:
    """The default address rule: ``raw`` stripped, 1-64 visible characters (no spaces)."""
    text = raw.strip()
    if not 1 <= len(text) <= MAX_ADDRESS_CHARS:
        raise InvalidAddress(f"an address is 1 to {MAX_ADDRESS_CHARS} characters")
    if not all(char.isprintable() and not char.isspace() for char in text):
        raise InvalidAddress("an address has only visible characters (no spaces)")
    return text


BUILT_IN_LABELS: dict[Channel, str] = {
    Channel.WHATSAPP: "WhatsApp",
    Channel.SMS: "SMS",
    Channel.EMAIL: "email",
}
"""How docs, pages and endpoint summaries name the built-in channels."""

DEFAULT_SERVICE_WINDOWS: dict[Channel, timedelta] = {Channel.WHATSAPP: SERVICE_WINDOW}
"""The built-in channels' windows: WhatsApp's 24 hours; SMS and email have none."""
DEFAULT_ADDRESS_RULES: dict[Channel, AddressRule] = {
    Channel.WHATSAPP: normalize_phone,
    Channel.SMS: normalize_phone,
}
"""The built-in channels' address rules: a valid phone number, written in E.164."""


@dataclass(frozen=True)
class ChannelSpec:
    """One channel: what the services need to know to receive and answer on it.

    ``webhook`` is ``None`` for a channel with no inbound webhook of the generic kind (Twilio's
    WhatsApp and SMS have their own endpoints; email is outbound only).
    """

    name: Channel
    transport: MessageTransport
    label: str
    """How people call it ("WhatsApp", "Telegram"), for docs and pages."""
    webhook: ChannelWebhook | None = None
    service_window: timedelta | None = None
    """Free text only this long after the person's last message; ``None``: any time."""
    address: AddressRule = any_address
    """Checks and normalises a recipient a person typed (a send endpoint's ``to``)."""

    def recipient(self, raw: str) -> Address:
        """``raw`` as an :class:`Address` on this channel, through the channel's address rule.

        Raises :class:`~walker_channels.exceptions.InvalidAddress` (HTTP 422) when the rule
        refuses it; the message never repeats the value.
        """
        return Address(channel=self.name, value=self.address(raw))

    def __post_init__(self) -> None:
        """Refuse a transport that sends on another channel than the spec's name."""
        if self.transport.channel != self.name:
            raise ValueError(
                f"the transport for {self.name.value} sends on {self.transport.channel.value}"
            )
