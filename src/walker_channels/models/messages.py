"""Channels, addresses and the messages that flow in and out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, GetCoreSchemaHandler, model_validator
from pydantic_core import core_schema

from walker_channels.models.base import AwareDatetime, Frozen


class Channel(str):
    """The name of a channel people reach an agent on: ``whatsapp``, ``sms``, ``email``, or
    one a host registers (:class:`~walker_channels.channels.ChannelSpec`).

    A channel is data, not a closed enum: a name of lower-case letters, digits and ``-`` (at
    most 16), compared as the string it is. The built-in names are :attr:`WHATSAPP`,
    :attr:`SMS` and :attr:`EMAIL`; :meth:`define` makes another one a constant that
    ``Channel(name)`` then returns itself.
    """

    __slots__ = ()
    WHATSAPP: ClassVar[Channel]
    SMS: ClassVar[Channel]
    EMAIL: ClassVar[Channel]
    _defined: ClassVar[dict[str, Channel]] = {}

    def __new__(cls, name: str) -> Channel:
        """The channel called ``name``; raises :class:`ValueError` for an invalid name."""
        if isinstance(name, Channel):
            return name
        if not isinstance(name, str) or not _CHANNEL_NAME.fullmatch(name):
            raise ValueError(
                "a channel name is 1 to 16 lower-case letters, digits or '-', "
                "starting with a letter"
            )
        return cls._defined.get(name) or super().__new__(cls, name)

    @classmethod
    def define(cls, name: str) -> Channel:
        """Make ``name`` a known channel: ``Channel(name)`` returns this same object after."""
        channel = cls._defined.get(name) or cls(name)
        cls._defined[name] = channel
        return channel

    @property
    def value(self) -> str:
        """The name as a plain string."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Channel({self.value!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validated from (and serialised to) its name."""
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(pattern=_CHANNEL_NAME.pattern),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str.__str__, when_used="json"
            ),
        )


_CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
Channel.WHATSAPP = Channel.define("whatsapp")
Channel.SMS = Channel.define("sms")
Channel.EMAIL = Channel.define("email")


class Address(Frozen):
    """Who a message comes from or goes to.

    ``value`` is an E.164 number for WhatsApp and SMS, an email address for email. A WhatsApp
    sender Twilio names by a business-scoped user id instead of a number keeps that opaque id
    (``US.13491208655302741918``). Numbers people type are checked where they are typed
    (:func:`~walker_channels.phone_address`), not here. ``value`` is kept out of ``repr`` so
    that logging a model never prints a raw phone number or address.
    """

    channel: Channel
    value: str = Field(min_length=1, repr=False)

    @property
    def wire(self) -> str:
        """The address as Twilio writes it: ``whatsapp:<value>`` for WhatsApp, else the value."""
        return f"whatsapp:{self.value}" if self.channel is Channel.WHATSAPP else self.value


class Media(Frozen):
    """One media attachment, by URL, with the content type the provider declared."""

    url: str = Field(min_length=1)
    content_type: str | None = None


class Location(Frozen):
    """A place the person shared (a WhatsApp location message)."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: str | None = None
    label: str | None = None
    """The name of the place, when the person picked one."""


class InteractiveKind(StrEnum):
    """What the person answered with a tap."""

    BUTTON = "button"
    """A quick-reply button (of a template or a ``twilio/quick-reply`` message)."""
    LIST = "list"
    """An item of a list picker (``twilio/list-picker``)."""


class InteractiveReply(Frozen):
    """The button or list item the person tapped."""

    kind: InteractiveKind
    id: str | None = None
    """What the business set and the person did not see: the button payload or the item id."""
    title: str | None = None
    """What the person saw: the button text or the item title."""

    @model_validator(mode="after")
    def _names_the_choice(self) -> InteractiveReply:
        if self.id is None and self.title is None:
            raise ValueError("an interactive reply needs the choice's id or its title")
        return self


class Referral(Frozen):
    """The click-to-WhatsApp ad or post the person came from."""

    source_id: str | None = None
    """The ad's or post's id at Meta."""
    source_type: str | None = None
    """``ad`` or ``post``."""
    source_url: str | None = None
    headline: str | None = None
    body: str | None = None
    media_id: str | None = None
    media_content_type: str | None = None
    media_url: str | None = None
    num_media: int = Field(default=0, ge=0)
    ctwa_clid: str | None = None
    """Meta's click id, for attributing the conversation to the ad."""


class ReplyTo(Frozen):
    """The earlier message that this one quotes (a WhatsApp reply)."""

    message_id: str = Field(min_length=1)
    """The provider's id of the quoted message (Twilio ``OriginalRepliedMessageSid``)."""
    sender: Address | None = None
    """Who wrote the quoted message: the business or the person."""


class StructuredParts(Frozen):
    """The structured parts WhatsApp adds to a message, each ``None`` (or ``False``) when absent.

    :class:`InboundMessage` and :class:`~walker_channels.models.AgentRequest` both carry them,
    so a part added here reaches the agent without further wiring.
    """

    location: Location | None = Field(default=None, repr=False)
    interactive: InteractiveReply | None = None
    referral: Referral | None = None
    reply_to: ReplyTo | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    """Forwarded many times (WhatsApp's double arrow); ``forwarded`` is then set too."""

    def structured_parts(self) -> dict[str, object]:
        """These parts by field name (to hand them on to another model)."""
        return {name: getattr(self, name) for name in StructuredParts.model_fields}


class ConsentAction(StrEnum):
    """What a message asks of the person's consent (a STOP- or START-style keyword)."""

    STOP = "stop"
    """Opt out: no more messages from this tenant on this channel."""
    START = "start"
    """Lift an earlier opt-out."""
    HELP = "help"
    """Ask how to opt out (the provider's opt-out handling answers it, or the agent does)."""


class InboundMessage(StructuredParts):
    """A message a person sent, normalised from the provider's webhook.

    Besides ``text`` and ``media`` it carries the :class:`StructuredParts` WhatsApp adds. A
    shared location may come with no text at all: ``location`` then holds the whole message.
    """

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
    opt_out_type: ConsentAction | None = None
    """The provider's own reading of a consent keyword, which it answered already (Twilio
    Advanced Opt-Out's ``OptOutType``); ``None`` when the provider did not say."""
    sentiment: float | None = Field(default=None, ge=-1.0, le=1.0)
    """The score ``ConversationService.accept`` gave the text (never the provider's):
    it travels with the queued message to the worker that routes by it."""


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


class SendOptions(Frozen):
    """How Twilio's Messages API should handle one WhatsApp or SMS send (all optional).

    Scheduling (``send_at``) and link shortening need a Messaging Service: a transport
    configured without ``messaging_service_sid`` refuses them, as Twilio would send a
    "scheduled" message at once without one.
    """

    validity_period: int | None = Field(default=None, ge=1, le=36000, strict=True)
    """Seconds the message may wait in Twilio's queue before it is dropped (``ValidityPeriod``;
    Twilio's default is 36000)."""
    send_at: AwareDatetime | None = None
    """When Twilio sends it (``SendAt``, with ``ScheduleType=fixed``), to the second; Twilio
    takes more than 5 minutes and at most 35 days ahead."""
    shorten_urls: bool | None = Field(default=None, strict=True)
    """Whether Twilio shortens the links in the text (``ShortenUrls``)."""


class OutboundMessage(Frozen):
    """A message to send.

    Exactly one kind of content: free text and/or media, a content template (``ContentSid``,
    for WhatsApp and SMS alike), or an email. ``options`` tune a WhatsApp or SMS send.
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
    options: SendOptions | None = None

    @model_validator(mode="after")
    def _one_kind_of_content(self) -> OutboundMessage:
        if self.to.channel is not self.channel:
            raise ValueError("recipient address is for another channel")
        free = self.text is not None or bool(self.media)
        if self.channel is Channel.EMAIL:
            if self.email is None or free or self.template is not None:
                raise ValueError("an email message needs email content and nothing else")
            if self.options is not None:
                raise ValueError("send options are for WhatsApp and SMS, not email")
        elif self.email is not None:
            raise ValueError("email content needs the email channel")
        elif self.template is not None:
            if free:
                raise ValueError("a template message cannot also carry text or media")
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
    PARTIALLY_DELIVERED = "partially_delivered"
    """Some of it arrived (Twilio names no more than that): past sent, short of delivered."""
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
