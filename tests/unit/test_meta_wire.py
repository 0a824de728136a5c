"""What the Meta transport POSTs for each kind of message, what it refuses before sending, and
how Meta's error codes map into the error tree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from walker_channels.exceptions import DeliveryUnknown, MessageRejected
from walker_channels.meta import (
    META_WHATSAPP,
    MetaConfig,
    MetaErrorKind,
    check_sendable,
    describe_error,
    message_payload,
    provider_error,
    send_result,
)
from walker_channels.models import (
    Address,
    Channel,
    DeliveryStatus,
    Media,
    OutboundMessage,
    SendOptions,
    WhatsAppTemplate,
)

SID = "HX" + "b" * 32
CONFIG = MetaConfig.model_validate(
    {
        "access_token": "token",
        "app_secret": "secret",
        "phone_number_id": "106540352242922",
        "templates": {SID: {"name": "order_update", "language": "en_US"}},
    }
)
TO = Address(channel=META_WHATSAPP, value="+16505551234")


def message(**fields: Any) -> OutboundMessage:
    return OutboundMessage(channel=META_WHATSAPP, to=TO, **fields)


def test_text_goes_as_a_text_message_without_link_preview() -> None:
    payload = message_payload(message(text="Hi there", idempotency_key="reply:1"), CONFIG)

    assert payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+16505551234",
        "type": "text",
        "text": {"body": "Hi there", "preview_url": False},
        "biz_opaque_callback_data": "reply:1",
    }


@pytest.mark.parametrize(
    ("media", "kind"),
    [
        (Media(url="https://cdn.example/a.jpg", content_type="image/jpeg"), "image"),
        (Media(url="https://cdn.example/a.mp4"), "video"),
        (Media(url="https://cdn.example/voice.ogg", content_type="audio/ogg"), "audio"),
        (Media(url="https://cdn.example/invoice.pdf"), "document"),
        (Media(url="https://cdn.example/download"), "document"),
    ],
)
def test_media_goes_by_link_as_its_kind(media: Media, kind: str) -> None:
    payload = message_payload(message(media=(media,)), CONFIG)

    assert payload["type"] == kind
    assert payload[kind] == {"link": media.url}


def test_text_with_media_is_its_caption() -> None:
    media = Media(url="https://cdn.example/a.jpg")

    payload = message_payload(message(text="Look", media=(media,)), CONFIG)

    assert payload["image"] == {"link": media.url, "caption": "Look"}


def test_a_template_is_mapped_to_metas_name_language_and_body_parameters() -> None:
    template = WhatsAppTemplate(content_sid=SID, variables={"2": "17 May", "1": "Ada"})

    payload = message_payload(message(template=template), CONFIG)

    assert payload["type"] == "template"
    assert payload["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "17 May"}],
            }
        ],
    }


def test_named_template_variables_are_named_parameters() -> None:
    template = WhatsAppTemplate(content_sid=SID, variables={"first_name": "Ada"})

    payload = message_payload(message(template=template), CONFIG)

    [body] = payload["template"]["components"]  # type: ignore[index]
    assert body["parameters"] == [{"type": "text", "parameter_name": "first_name", "text": "Ada"}]


@pytest.mark.parametrize("variables", [{"1": "a", "3": "c"}, {"0": "a"}, {"1": "a", "name": "b"}])
def test_template_variables_that_cannot_be_mapped_are_refused(variables: dict[str, str]) -> None:
    template = WhatsAppTemplate(content_sid=SID, variables=variables)

    with pytest.raises(MessageRejected):
        message_payload(message(template=template), CONFIG)


def test_a_template_without_a_meta_mapping_is_refused_naming_the_setting() -> None:
    template = WhatsAppTemplate(content_sid="HX" + "c" * 32)

    with pytest.raises(MessageRejected, match="META_TEMPLATES"):
        message_payload(message(template=template), CONFIG)


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "x" * 4097},
        {"media": (Media(url="https://a.example/1.jpg"), Media(url="https://a.example/2.jpg"))},
        {"media": (Media(url="ftp://a.example/1.jpg"),)},
        {"text": "x" * 1025, "media": (Media(url="https://a.example/1.jpg"),)},
        {
            "text": "caption",
            "media": (Media(url="https://a.example/v.ogg", content_type="audio/ogg"),),
        },
        {"text": "hi", "options": SendOptions(validity_period=60)},
        {"text": "hi", "sender": Address(channel=META_WHATSAPP, value="+15550783881")},
    ],
)
def test_what_meta_would_refuse_is_rejected_before_sending(fields: dict[str, Any]) -> None:
    with pytest.raises(MessageRejected):
        check_sendable(message(**fields), META_WHATSAPP)


def test_a_message_for_another_channel_is_rejected() -> None:
    other = OutboundMessage(
        channel=Channel.WHATSAPP,
        to=Address(channel=Channel.WHATSAPP, value="+16505551234"),
        text="x",
    )

    with pytest.raises(MessageRejected, match="pick the transport"):
        check_sendable(other, META_WHATSAPP)


def test_the_send_result_is_the_wamid_without_the_contacts() -> None:
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+16505551234", "wa_id": "16505551234"}],
        "messages": [{"id": "wamid.ABC=", "message_status": "accepted"}],
    }

    result = send_result(META_WHATSAPP, answer)

    assert (result.provider_message_id, result.status) == ("wamid.ABC=", DeliveryStatus.ACCEPTED)
    assert "contacts" not in result.raw


@pytest.mark.parametrize("answer", [None, {}, {"messages": []}, {"messages": [{"id": ""}]}])
def test_an_accepted_send_without_a_wamid_is_unknown(answer: object) -> None:
    with pytest.raises(DeliveryUnknown):
        send_result(META_WHATSAPP, answer)


def error_body(code: int, message: str = "(#131047) Re-engagement message +16505551234") -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": "OAuthException", "code": code}}
    ).encode()


@pytest.mark.parametrize(
    ("status", "code", "kind", "retryable"),
    [
        (400, 131047, MetaErrorKind.WINDOW_CLOSED, False),
        (400, 131026, MetaErrorKind.UNDELIVERABLE, False),
        (400, 130429, MetaErrorKind.RATE_LIMITED, True),
        (429, 131048, MetaErrorKind.RATE_LIMITED, True),
        (400, 131056, MetaErrorKind.RATE_LIMITED, True),
        (401, 190, MetaErrorKind.AUTH, False),
        (400, 100, MetaErrorKind.INVALID_REQUEST, False),
        (400, 131051, MetaErrorKind.UNSUPPORTED, False),
        (500, 131000, MetaErrorKind.TEMPORARY, True),
        (400, 999999, MetaErrorKind.UNKNOWN, False),
        (503, 999999, MetaErrorKind.TEMPORARY, True),
        (429, 999999, MetaErrorKind.RATE_LIMITED, True),
    ],
)
def test_meta_error_codes_map_into_the_error_tree(
    status: int, code: int, kind: MetaErrorKind, retryable: bool
) -> None:
    error, found = provider_error(status, error_body(code))

    assert (found, error.retryable, error.code) == (kind, retryable, str(code))
    assert "16505551234" not in str(error)


def test_a_body_without_an_error_code_falls_back_to_the_http_status() -> None:
    error, kind = provider_error(502, b"<html>Bad Gateway</html>")

    assert (error.code, kind, error.retryable) == ("502", MetaErrorKind.TEMPORARY, True)


def test_an_unknown_code_is_described_as_unknown() -> None:
    assert describe_error(424242).kind is MetaErrorKind.UNKNOWN
    assert describe_error("not-a-code").kind is MetaErrorKind.UNKNOWN
    assert describe_error(131047).kind is MetaErrorKind.WINDOW_CLOSED
