"""Telegram's webhook updates become inbound messages with the structured content.

The payloads are under ``tests/fixtures/telegram`` (see the README there): Bot API ``Update``
objects of every kind the webhook reads, and two it ignores.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest

from walker_channels.exceptions import InvalidInput
from walker_channels.models import Address, ConsentAction, InteractiveKind, Location, Media
from walker_channels.telegram import TELEGRAM, ParsedUpdate, parse_update

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
BOT_ID = "123456789"
NOW = datetime(2026, 4, 6, 9, 15, tzinfo=UTC)
PERSON = Address(channel=TELEGRAM, value="1111111")
BOT = Address(channel=TELEGRAM, value=BOT_ID)


def parsed(name: str) -> ParsedUpdate:
    return parse_update((FIXTURES / f"{name}.json").read_bytes(), bot_id=BOT_ID, received_at=NOW)


def test_a_text_message_is_from_its_chat_to_the_bot_and_keyed_by_bot_and_update() -> None:
    update = parsed("text")

    message = update.message
    assert message is not None
    assert (message.channel, message.sender, message.recipient) == (TELEGRAM, PERSON, BOT)
    assert message.provider_message_id == f"tg:{BOT_ID}:10000"
    assert message.text == "hello from telegram"
    assert message.profile_name == "Ada Lovelace"
    assert message.received_at == NOW
    assert json.loads(str(message.raw["update"]))["update_id"] == 10000
    assert update.callback_query_id is None


def test_an_edited_message_is_a_new_message_of_its_own_update() -> None:
    message = parsed("edited_text").message

    assert message is not None
    assert message.provider_message_id == f"tg:{BOT_ID}:10001"
    assert message.text == "hello from telegram, edited"


def test_a_photo_is_its_largest_size_by_file_id_with_the_caption_as_text() -> None:
    message = parsed("photo").message

    assert message is not None
    assert message.media == (
        Media(url="telegram-file:AgACAgQAAxkBAAIBbGXlarge", content_type="image/jpeg"),
    )
    assert message.text == "the broken part"


def test_a_document_and_a_voice_note_keep_their_declared_types() -> None:
    document, voice = parsed("document").message, parsed("voice").message

    assert document is not None
    assert voice is not None
    assert document.media == (
        Media(url="telegram-file:BQACAgQAAxkBAAIBbWXinvoice", content_type="application/pdf"),
    )
    assert voice.media == (
        Media(url="telegram-file:AwACAgQAAxkBAAIBdGXvoice", content_type="audio/ogg"),
    )
    assert document.text == voice.text == ""


def test_a_location_is_the_whole_message() -> None:
    message = parsed("location").message

    assert message is not None
    assert message.location == Location(latitude=51.500729, longitude=-0.124625)
    assert (message.text, message.media) == ("", ())


def test_a_venue_is_a_location_with_the_place_name_and_address() -> None:
    message = parsed("venue").message

    assert message is not None
    assert message.location == Location(
        latitude=51.500729,
        longitude=-0.124625,
        address="Westminster, London SW1A 0AA, United Kingdom",
        label="Big Ben",
    )


def test_a_shared_contact_is_a_vcard_item_as_whatsapp_contacts_are() -> None:
    message = parsed("contact").message

    assert message is not None
    [card] = message.media
    assert card.content_type == "text/vcard"
    assert card.url.startswith("data:text/vcard;charset=utf-8,")
    lines = unquote(card.url.partition(",")[2]).split("\r\n")
    assert lines[0] == "BEGIN:VCARD"
    assert lines[-1] == "END:VCARD"
    assert "FN:Charles Babbage" in lines
    assert "TEL;TYPE=CELL:+14155550123" in lines


def test_a_button_tap_is_a_button_reply_with_its_data_and_text_and_is_answered() -> None:
    update = parsed("callback_query")

    message = update.message
    assert message is not None
    assert update.callback_query_id == "4382bfdwdsb323b2d9"
    assert message.interactive is not None
    assert message.interactive.kind is InteractiveKind.BUTTON
    assert (message.interactive.id, message.interactive.title) == (
        "confirm-booking-4711",
        "Yes, confirm",
    )
    assert message.text == "Yes, confirm"
    assert message.sender == PERSON
    assert message.reply_to is not None
    assert message.reply_to.message_id == "1371"


def test_a_reply_names_the_quoted_message_and_that_the_bot_wrote_it() -> None:
    message = parsed("reply").message

    assert message is not None
    assert message.reply_to is not None
    assert message.reply_to.message_id == "1371"
    assert message.reply_to.sender == BOT


def test_a_forwarded_message_is_marked_forwarded() -> None:
    message = parsed("forwarded").message

    assert message is not None
    assert message.forwarded is True
    assert message.frequently_forwarded is False


@pytest.mark.parametrize("name", ["channel_post", "new_members"])
def test_updates_that_carry_no_persons_message_are_no_message(name: str) -> None:
    update = parsed(name)

    assert update.message is None
    assert update.update_id > 0


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"not json", "JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "update_id"),
        (b'{"update_id": "12"}', "update_id"),
        (b'{"update_id": true}', "update_id"),
        (b'{"update_id": 5, "message": {"message_id": 1, "date": 0}}', "message.chat"),
        (b'{"update_id": 5, "message": "hi"}', "message"),
        (
            b'{"update_id": 5, "message": {"message_id": 1, "chat": {"id": 7, "type": "private"},'
            b' "location": {"latitude": 91, "longitude": 0}}}',
            "message.location.latitude",
        ),
        (b'{"update_id": 5, "callback_query": {"from": {"id": 1}}}', "callback_query.id"),
    ],
)
def test_a_malformed_update_is_invalid_input_naming_the_field(body: bytes, names: str) -> None:
    with pytest.raises(InvalidInput, match=names):
        parse_update(body, bot_id=BOT_ID, received_at=NOW)


def test_an_invalid_input_message_never_repeats_a_value() -> None:
    body = b'{"update_id": 5, "message": {"message_id": "secret-text", "chat": {"id": 7}}}'

    with pytest.raises(InvalidInput) as raised:
        parse_update(body, bot_id=BOT_ID, received_at=NOW)

    assert "secret-text" not in str(raised.value)


def test_the_time_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_update(b'{"update_id": 1}', bot_id=BOT_ID, received_at=datetime(2026, 4, 6))


def test_text_no_store_can_hold_is_kept_with_replacement_characters() -> None:
    body = (
        b'{"update_id": 9, "message": {"message_id": 1, "chat": {"id": 7, "type": "private"},'
        b' "text": "a\\u0000b\\ud800c"}}'
    )

    message = parse_update(body, bot_id=BOT_ID, received_at=NOW).message

    assert message is not None
    assert message.text == "a\ufffdb\ufffdc"


def test_an_update_nested_thousands_deep_is_invalid_input() -> None:
    body = b'{"update_id": 9, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    with pytest.raises(InvalidInput):
        parse_update(body, bot_id=BOT_ID, received_at=NOW)


def test_a_reply_chain_nested_deeply_is_invalid_input_not_a_crash() -> None:
    inner = b'{"message_id": 1, "chat": {"id": 7, "type": "private"}, "text": "x"}'
    for _ in range(2000):
        inner = (
            b'{"message_id": 1, "chat": {"id": 7, "type": "private"}, "reply_to_message": '
            + inner
            + b"}"
        )

    with pytest.raises(InvalidInput):
        parse_update(b'{"update_id": 9, "message": ' + inner + b"}", bot_id=BOT_ID, received_at=NOW)


def test_blocking_the_bot_is_telegrams_own_opt_out_and_unblocking_its_opt_in() -> None:
    blocked, unblocked = parsed("blocked").message, parsed("unblocked").message

    assert blocked is not None
    assert unblocked is not None
    assert (blocked.opt_out_type, unblocked.opt_out_type) == (
        ConsentAction.STOP,
        ConsentAction.START,
    )
    assert blocked.sender == unblocked.sender == PERSON
    assert blocked.provider_message_id == f"tg:{BOT_ID}:10013"


def test_a_membership_change_in_a_group_is_no_consent_change() -> None:
    group = json.loads((FIXTURES / "blocked.json").read_text())
    group["my_chat_member"]["chat"] = {"id": -4012345678, "title": "Booking team", "type": "group"}

    update = parse_update(json.dumps(group).encode(), bot_id=BOT_ID, received_at=NOW)

    assert (update.kind, update.message) == ("my_chat_member", None)
