"""Channels, addresses and the messages that flow in and out."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import ConfigDict, Field, model_validator

from walker_channels.models.base import AwareDatetime, Frozen


class Channel(StrEnum):
    """A channel people reach an agent on."""

    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"


class Address(Frozen):
    """Who a message comes from or goes to.

    ``value`` is an E.164 number for WhatsApp and SMS, an email address for email. It is kept
    out of ``repr`` so that logging a model never prints a raw phone number or address.
    """

    channel: Channel
    value: str = Field(min_length=1, repr=False)

    @property
    def wire(self) -> str:
        """The address as Twilio writes it: ``whatsapp:+E164`` for WhatsApp, else the value."""
        return f"whatsapp:{self.value}" if self.channel is Channel.WHATSAPP else self.value


class Media(Frozen):
    """One media attachment, by URL."""

    url: str = Field(min_length=1)
    content_type: str | None = None


class InboundMessage(Frozen):
    """A message a person sent, normalised from the provider's webhook."""

    channel: Channel
    provider_message_id: str = Field(min_length=1)
    sender: Address
    recipient: Address
    text: str = ""
    media: tuple[Media, ...] = ()
    profile_name: str | None = Field(default=None, repr=False)
    received_at: AwareDatetime
    raw: Mapping[str, str | tuple[str, ...]] = Field(default_factory=dict, repr=False)
    """Every field the provider sent, unknown ones included."""


class WhatsAppTemplate(Frozen):
    """An approved WhatsApp content template (Twilio ``ContentSid`` + ``ContentVariables``)."""

    content_sid: str = Field(pattern=r"^HX[0-9a-fA-F]{32}$")
    variables: Mapping[str, str] = Field(default_factory=dict)


class EmailAttachment(Frozen):
    """A file attached to an email (base64 in JSON)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    filename: str = Field(min_length=1, max_length=255, pattern=r"^[^/\\\r\n]+$")
    content_type: str = Field(default="application/octet-stream", pattern=r"^[\w.+-]+/[\w.+-]+$")
    data: bytes = Field(repr=False)


class EmailContent(Frozen):
    """The parts of an email: subject, HTML and plain text, and optional attachments."""

    subject: str = Field(min_length=1)
    text: str
    html: str | None = None
    list_unsubscribe_url: str | None = None
    attachments: tuple[EmailAttachment, ...] = ()


class OutboundMessage(Frozen):
    """A message to send.

    Exactly one kind of content: free text and/or media, a WhatsApp template, or an email.
    """

    channel: Channel
    to: Address
    sender: Address | None = None
    """The sending address; transports fall back to their configured default."""
    text: str | None = None
    media: tuple[Media, ...] = ()
    template: WhatsAppTemplate | None = None
    email: EmailContent | None = None
    status_callback: str | None = None
    idempotency_key: str | None = None

    @model_validator(mode="after")
    def _one_kind_of_content(self) -> OutboundMessage:
        if self.to.channel is not self.channel:
            raise ValueError("recipient address is for another channel")
        free = self.text is not None or bool(self.media)
        if self.channel is Channel.EMAIL:
            if self.email is None or free or self.template is not None:
                raise ValueError("an email message needs email content and nothing else")
        elif self.email is not None:
            raise ValueError("email content needs the email channel")
        elif self.template is not None:
            if free:
                raise ValueError("a template message cannot also carry text or media")
            if self.channel is not Channel.WHATSAPP:
                raise ValueError("templates are for WhatsApp")
        elif not free:
            raise ValueError("a message needs text, media, a template or email content")
        return self


class DeliveryStatus(StrEnum):
    """Where an outbound message is in its life (Twilio's vocabulary, mapped by the transport)."""

    QUEUED = "queued"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


class SendResult(Frozen):
    """What a transport reports after handing a message to the provider."""

    channel: Channel
    provider_message_id: str | None
    status: DeliveryStatus
    raw: Mapping[str, object] = Field(default_factory=dict, repr=False)


class DeliveryUpdate(Frozen):
    """A provider's report that an outbound message reached a new delivery status."""

    channel: Channel
    provider_message_id: str = Field(min_length=1)
    status: DeliveryStatus
    error_code: str | None = None
    ledger_key: str | None = None
    """Our outbound ledger key, when the callback URL carried it (settles unknown outcomes)."""
    occurred_at: AwareDatetime
    raw: Mapping[str, str | tuple[str, ...]] = Field(default_factory=dict, repr=False)
