"""Meta's messages webhook parsed into messages and delivery updates (the documented payloads
under tests/fixtures/meta)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from walker_channels.exceptions import InvalidInput
from walker_channels.meta import META_WHATSAPP, parse_notification
from walker_channels.models import (
    Address,
    DeliveryStatus,
    InboundMessage,
    InteractiveKind,
    InteractiveReply,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
BUSINESS = Address(channel=META_WHATSAPP, value="106540352242922")
PERSON = Address(channel=META_WHATSAPP, value="+16505551234")
QUOTED = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


def media_url(media_id: str) -> str:
    return f"https://graph.example/v21.0/{media_id}"


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def one_message(name: str) -> InboundMessage:
    messages, statuses = parse_notification(fixture(name), received_at=NOW, media_url=media_url)
    assert statuses == ()
    [message] = messages
    return message


def test_a_text_message_has_its_wamid_both_addresses_and_the_profile_name() -> None:
    message = one_message("inbound_text")

    assert message.channel == META_WHATSAPP
    assert message.provider_message_id.startswith("wamid.HBgL")
    assert (message.sender, message.recipient) == (PERSON, BUSINESS)
    assert message.text == "Does it come in another color?"
    assert message.profile_name == "Sheena Nelson"
    assert message.received_at == NOW
    assert message.raw["text.body"] == message.text
    assert message.raw["phone_number_id"] == BUSINESS.value


@pytest.mark.parametrize(
    ("name", "media_id", "content_type", "text"),
    [
        ("inbound_image", "1003383421387256", "image/jpeg", "This is the one I mean"),
        ("inbound_audio", "1272825114022736", "audio/ogg; codecs=opus", ""),
        ("inbound_video", "1184181209624180", "video/mp4", "Here is the damage"),
        ("inbound_document", "1003384991387099", "application/pdf", "Invoice from last week"),
        ("inbound_sticker", "1228627018713386", "image/webp", ""),
    ],
)
def test_media_is_the_graph_url_of_its_id_with_the_mime_type_and_caption(
    name: str, media_id: str, content_type: str, text: str
) -> None:
    message = one_message(name)

    [item] = message.media
    assert (item.url, item.content_type) == (media_url(media_id), content_type)
    assert message.text == text


def test_a_location_is_the_whole_message() -> None:
    message = one_message("inbound_location")

    assert message.text == ""
    assert message.location is not None
    assert (message.location.latitude, message.location.longitude) == (37.483307, -122.148981)
    assert message.location.label == "Main Campus"
    assert message.location.address == "1 Hacker Way, Menlo Park, CA 94025"


def test_shared_contacts_become_a_line_each_with_name_and_numbers() -> None:
    message = one_message("inbound_contacts")

    assert message.text == "Barbara J. Johnson: +1 (940) 555-1234"
    assert message.raw["contacts.0.emails.0.email"] == "bjohnson@example.com"


@pytest.mark.parametrize(
    ("name", "reply", "text"),
    [
        (
            "inbound_button_reply",
            InteractiveReply(kind=InteractiveKind.BUTTON, id="change-button", title="Change"),
            "Change",
        ),
        (
            "inbound_list_reply",
            InteractiveReply(
                kind=InteractiveKind.LIST, id="priority_express", title="Priority Mail Express"
            ),
            "Priority Mail Express",
        ),
        (
            "inbound_button",
            InteractiveReply(
                kind=InteractiveKind.BUTTON,
                id="Unsubscribe from Promos",
                title="Unsubscribe from Promos",
            ),
            "Unsubscribe from Promos",
        ),
    ],
)
def test_taps_are_interactive_replies_quoting_the_message_they_answer(
    name: str, reply: InteractiveReply, text: str
) -> None:
    message = one_message(name)

    assert message.interactive == reply
    assert message.text == text
    assert message.reply_to is not None
    assert message.reply_to.message_id == QUOTED


def test_a_reaction_is_its_emoji_replying_to_the_reacted_message() -> None:
    message = one_message("inbound_reaction")

    assert message.text == "\N{THUMBS UP SIGN}"
    assert message.reply_to is not None
    assert message.reply_to.message_id == QUOTED


def test_an_unsupported_message_is_kept_with_its_type_and_error_in_raw() -> None:
    message = one_message("inbound_unsupported")

    assert (message.text, message.media, message.interactive) == ("", (), None)
    assert message.raw["type"] == "unsupported"
    assert message.raw["errors.0.code"] == "131051"


def test_forward_marks_and_a_referral_are_read() -> None:
    forwarded = one_message("inbound_forwarded_reply")
    referred = one_message("inbound_referral")

    assert (forwarded.forwarded, forwarded.frequently_forwarded) == (True, True)
    assert referred.referral is not None
    assert referred.referral.source_type == "ad"
    assert referred.referral.ctwa_clid is not None
    assert referred.referral.media_url is not None
    assert referred.referral.num_media == 1


@pytest.mark.parametrize(
    ("name", "status", "error_code"),
    [
        ("status_sent", DeliveryStatus.SENT, None),
        ("status_delivered", DeliveryStatus.DELIVERED, None),
        ("status_read", DeliveryStatus.READ, None),
        ("status_failed", DeliveryStatus.FAILED, "131047"),
    ],
)
def test_statuses_are_delivery_updates_by_wamid(
    name: str, status: DeliveryStatus, error_code: str | None
) -> None:
    messages, statuses = parse_notification(fixture(name), received_at=NOW, media_url=media_url)

    [update] = statuses
    assert messages == ()
    assert (update.provider_message_id, update.status, update.error_code) == (
        QUOTED,
        status,
        error_code,
    )
    assert update.channel == META_WHATSAPP
    assert update.occurred_at.tzinfo is not None


def test_a_batch_yields_every_message_and_status_and_skips_other_fields() -> None:
    messages, statuses = parse_notification(fixture("batch"), received_at=NOW, media_url=media_url)

    assert [m.text for m in messages] == ["First", "Second", "Third"]
    assert [m.sender.value for m in messages] == ["+16505551234"] * 2 + ["+16315551181"]
    assert messages[2].profile_name == "Kerry Fisher"
    assert [s.status for s in statuses] == [DeliveryStatus.DELIVERED]


def test_an_unknown_status_and_the_echoed_callback_data_are_kept() -> None:
    document = json.loads(fixture("status_read"))
    status = document["entry"][0]["changes"][0]["value"]["statuses"][0]
    status |= {"status": "warning", "biz_opaque_callback_data": "reply:abc"}

    _, [update] = parse_notification(
        json.dumps(document).encode(), received_at=NOW, media_url=media_url
    )

    assert update.status is DeliveryStatus.UNKNOWN
    assert update.ledger_key == "reply:abc"


def test_other_objects_are_ignored_not_refused() -> None:
    body = json.dumps({"object": "page", "entry": [{"id": "1", "changes": []}]}).encode()

    assert parse_notification(body, received_at=NOW, media_url=media_url) == ((), ())


def _with_message(**changes: Any) -> bytes:
    document = json.loads(fixture("inbound_text"))
    document["entry"][0]["changes"][0]["value"]["messages"][0].update(changes)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[1, 2]",
        b'{"object": "whatsapp_business_account", "entry": {}}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": [1]}]}',
        b'{"object": "whatsapp_business_account", "entry": [{"changes": '
        b'[{"field": "messages", "value": {"messages": []}}]}]}',
        b"[" * 100_000 + b"]" * 100_000,
        _with_message(id=None),
        _with_message(**{"from": "+1 650"}),
        _with_message(type="image"),
        _with_message(type="location", location={"latitude": "north", "longitude": 1}),
        _with_message(type="location", location={"latitude": 91, "longitude": 1}),
        _with_message(type="interactive", interactive={"type": "button_reply"}),
        _with_message(type="contacts", contacts=[]),
        _with_message(text={"body": {"nested": True}}),
    ],
)
def test_a_body_of_the_wrong_shape_is_invalid_input(body: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_notification(body, received_at=NOW, media_url=media_url)

    assert "16505551234" not in str(caught.value)


def test_text_a_store_cannot_hold_is_kept_with_replacement_characters() -> None:
    message = one_of(_with_message(text={"body": "nul\u0000 and \ud800 surrogate"}))

    assert message.text == "nul\ufffd and \ufffd surrogate"


def test_an_id_a_store_cannot_hold_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_notification(_with_message(id="wamid.\u0000"), received_at=NOW, media_url=media_url)


def one_of(body: bytes) -> InboundMessage:
    [message], _ = parse_notification(body, received_at=NOW, media_url=media_url)
    return message


def test_received_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_notification(
            fixture("inbound_text"), received_at=datetime(2026, 1, 1), media_url=media_url
        )
