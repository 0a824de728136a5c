"""What a channel's webhook receives and what it makes of it, framework-neutral."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from walker_channels.models.messages import DeliveryUpdate, InboundMessage


@dataclass(frozen=True)
class WebhookRequest:
    """A request to a channel's webhook: the raw body is kept, so signatures can be checked.

    ``headers`` are looked up by lower-case name; ``query`` holds the first value of each
    query parameter.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = field(default=b"", repr=False)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookReply:
    """The HTTP answer a webhook gives its provider."""

    status: int = 200
    body: bytes = b""
    media_type: str = "text/plain"


@dataclass(frozen=True)
class WebhookBatch:
    """What one verified webhook request carried: messages, delivery updates, and the answer.

    A provider may batch several of each in one request (Meta does); each message is
    accepted once by its provider id, so a redelivered batch is harmless.
    """

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[DeliveryUpdate, ...] = ()
    reply: WebhookReply = WebhookReply()
