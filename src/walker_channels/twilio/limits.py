"""What Twilio would refuse, checked before sending so the caller gets a clear error at once.

The 24-hour WhatsApp window is not checked here: it needs the time of the person's last
message, which the services know (see :class:`~walker_channels.exceptions.OutsideServiceWindow`).
"""

from __future__ import annotations

from collections.abc import Mapping

from walker_channels.exceptions import MessageRejected
from walker_channels.models import Channel, OutboundMessage
from walker_channels.texts import utf16_length
from walker_channels.twilio.forms import is_http_url

MAX_BODY_CHARS = 1600
"""Twilio's limit on ``Body`` (error 21617)."""
MAX_MEDIA = 10
"""At most this many ``MediaUrl`` per message (error 21623)."""
MAX_WHATSAPP_MEDIA = 1
"""WhatsApp delivers one media item per message; Twilio silently drops the others."""
MAX_TEMPLATE_VARIABLE_CHARS = 1600
"""Twilio's limit on each ``ContentVariables`` value (error 21658)."""


body_length = utf16_length
"""``text``'s length as Twilio counts it: UTF-16 code units (an emoji counts twice)."""


def check_sendable(message: OutboundMessage, channel: Channel) -> None:
    """Raise :class:`MessageRejected` if Twilio would refuse ``message`` on ``channel``."""
    if message.channel is not channel or message.to.channel is not channel:
        raise MessageRejected(
            f"this Twilio transport sends {channel.value}; the message is for "
            f"{message.channel.value}: pick the transport of the message's channel"
        )
    if message.sender is not None and message.sender.channel is not channel:
        raise MessageRejected(f"the sender address must be a {channel.value} address")
    if message.template is None:
        _check_free_form(message, channel)
        return
    if message.text is not None or message.media:
        raise MessageRejected("a template message cannot also carry text or media: drop them")
    _check_variables(message.template.variables)


def _check_variables(variables: Mapping[str, str]) -> None:
    for value in variables.values():
        if body_length(value) > MAX_TEMPLATE_VARIABLE_CHARS:
            raise MessageRejected(
                f"a template variable is longer than {MAX_TEMPLATE_VARIABLE_CHARS} characters: "
                "shorten it"
            )


def _check_free_form(message: OutboundMessage, channel: Channel) -> None:
    text = message.text or ""
    if not text and not message.media:
        raise MessageRejected("the message is empty: give it text, media or a template")
    length = body_length(text)
    if length > MAX_BODY_CHARS:
        raise MessageRejected(
            f"the text is {length} characters; Twilio accepts at most {MAX_BODY_CHARS}: "
            "shorten it or split it into several messages"
        )
    limit = MAX_WHATSAPP_MEDIA if channel is Channel.WHATSAPP else MAX_MEDIA
    if len(message.media) > limit:
        raise MessageRejected(
            f"{len(message.media)} media items; {channel.value} allows at most {limit} per "
            "message: send the others in separate messages"
        )
    for item in message.media:
        if not is_http_url(item.url):
            raise MessageRejected("media URLs must be absolute http(s) URLs Twilio can fetch")
