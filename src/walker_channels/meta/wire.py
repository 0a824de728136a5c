"""The Cloud API's wire format: the JSON we POST to ``/messages`` and the answer we read.

What a message becomes:

- text: ``{"type": "text", "text": {"body": ..., "preview_url": false}}``;
- one media item by link: ``image``, ``audio``, ``video`` or ``document`` (by its content type,
  else its URL's extension; anything else goes as a document), the text as its caption;
- a template (:class:`~walker_channels.models.WhatsAppTemplate`): its Content SID is looked up
  in :attr:`MetaConfig.templates` for Meta's name and language; variables ``"1"``, ``"2"``, ...
  become the body's positional parameters in that order, named ones (``"first_name"``) the
  body's named parameters. Header and button parameters are not mapped.

The idempotency key travels as ``biz_opaque_callback_data``: Meta echoes it in every status
webhook, which settles a send whose outcome was unknown.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from urllib.parse import urlsplit

from walker_channels.exceptions import DeliveryUnknown, MessageRejected
from walker_channels.meta.config import MetaConfig, is_phone_number_id
from walker_channels.models import Channel, DeliveryStatus, Media, OutboundMessage, SendResult
from walker_channels.texts import utf16_length

MAX_TEXT_CHARS = 4096
"""The Cloud API's limit on a text message's body."""
MAX_CAPTION_CHARS = 1024
"""The limit on a media caption."""
MAX_CALLBACK_DATA_CHARS = 512
"""The limit on ``biz_opaque_callback_data``."""
_MEDIA_KINDS = ("image", "audio", "video")
_ACCEPTED = {
    "accepted": DeliveryStatus.ACCEPTED,
    "held_for_quality_assessment": DeliveryStatus.QUEUED,
    "paused": DeliveryStatus.QUEUED,
}


def check_sendable(message: OutboundMessage, channel: Channel) -> None:
    """Raise :class:`MessageRejected` if the Cloud API would refuse ``message``."""
    if message.channel != channel or message.to.channel != channel:
        raise MessageRejected(
            f"this Meta transport sends {channel.value}; the message is for "
            f"{message.channel.value}: pick the transport of the message's channel"
        )
    if message.sender is not None and not is_phone_number_id(message.sender.value):
        raise MessageRejected("the sender of a Meta WhatsApp message is a phone number id")
    if message.options is not None:
        raise MessageRejected("send options are Twilio's; the Cloud API takes none: drop them")
    if message.template is not None:
        return
    if len(message.media) > 1:
        raise MessageRejected("WhatsApp carries one media item per message: send one at a time")
    text = message.text or ""
    if message.media:
        _check_media(message.media[0], text)
    elif utf16_length(text) > MAX_TEXT_CHARS:
        raise MessageRejected(
            f"the text is longer than {MAX_TEXT_CHARS} characters: shorten or split it"
        )
    elif not text:
        raise MessageRejected("the message is empty: give it text, media or a template")


def message_payload(message: OutboundMessage, config: MetaConfig) -> dict[str, object]:
    """The JSON body of the ``/messages`` request that sends ``message``."""
    payload: dict[str, object] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to.value,
    }
    if message.template is not None:
        payload["type"] = "template"
        payload["template"] = _template(message.template.content_sid, message, config)
    elif message.media:
        item = message.media[0]
        kind = media_kind(item)
        content: dict[str, object] = {"link": item.url}
        if message.text:
            content["caption"] = message.text
        payload |= {"type": kind, kind: content}
    else:
        payload["type"] = "text"
        payload["text"] = {"body": message.text or "", "preview_url": False}
    key = message.idempotency_key
    if key and len(key) <= MAX_CALLBACK_DATA_CHARS:
        payload["biz_opaque_callback_data"] = key
    return payload


def media_kind(item: Media) -> str:
    """``image``, ``audio``, ``video`` or ``document``: how the Cloud API sends ``item``."""
    content_type = item.content_type or mimetypes.guess_type(urlsplit(item.url).path)[0] or ""
    major = content_type.split("/", 1)[0].lower()
    return major if major in _MEDIA_KINDS else "document"


def template_components(variables: Mapping[str, str]) -> list[dict[str, object]]:
    """The ``components`` of a template send: the variables as the body's parameters."""
    if not variables:
        return []
    names = list(variables)
    if all(name.isdigit() for name in names):
        order = sorted(names, key=int)
        if [int(name) for name in order] != list(range(1, len(order) + 1)):
            raise MessageRejected(
                "positional template variables run from 1 without gaps: 1, 2, 3, ..."
            )
        parameters = [{"type": "text", "text": variables[name]} for name in order]
    elif any(name.isdigit() for name in names):
        raise MessageRejected("template variables are all positional (1, 2, ...) or all named")
    else:
        parameters = [
            {"type": "text", "parameter_name": name, "text": value}
            for name, value in variables.items()
        ]
    return [{"type": "body", "parameters": parameters}]


def send_result(channel: Channel, payload: object) -> SendResult:
    """The :class:`SendResult` for the answer to a send (``messages[0].id`` is the wamid)."""
    messages = payload.get("messages") if isinstance(payload, Mapping) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, Mapping) else None
    if not isinstance(payload, Mapping) or not isinstance(wamid, str) or not wamid:
        raise DeliveryUnknown(
            "Meta accepted the request but its answer names no message id; the status "
            "webhook will settle the outcome"
        )
    assert isinstance(first, Mapping)
    status = first.get("message_status")
    return SendResult(
        channel=channel,
        provider_message_id=wamid,
        status=_ACCEPTED.get(status, DeliveryStatus.ACCEPTED)
        if isinstance(status, str)
        else DeliveryStatus.ACCEPTED,
        # ``contacts`` repeats the person's number: kept out.
        raw={key: value for key, value in payload.items() if key != "contacts"},
    )


def _check_media(item: Media, caption: str) -> None:
    parts = urlsplit(item.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MessageRejected("media URLs must be absolute http(s) URLs Meta can fetch")
    if caption and media_kind(item) == "audio":
        raise MessageRejected("an audio message carries no caption: send the text separately")
    if utf16_length(caption) > MAX_CAPTION_CHARS:
        raise MessageRejected(f"a media caption is at most {MAX_CAPTION_CHARS} characters")


def _template(sid: str, message: OutboundMessage, config: MetaConfig) -> dict[str, object]:
    known = config.templates.get(sid)
    if known is None:
        raise MessageRejected(
            "this template's Content SID has no Meta template: add it to META_TEMPLATES "
            '({"HX...": {"name": ..., "language": ...}})'
        )
    assert message.template is not None
    template: dict[str, object] = {"name": known.name, "language": {"code": known.language}}
    components = template_components(message.template.variables)
    if components:
        template["components"] = components
    return template
