"""What goes out to Telegram: MarkdownV2 escaping, Bot API calls, and refusals by table."""

from __future__ import annotations

import json

import pytest

from walker_channels.exceptions import MessageRejected, RecipientOptedOut
from walker_channels.models import Address, Media, OutboundMessage, WhatsAppTemplate
from walker_channels.telegram import (
    MARKDOWN_V2_SPECIAL,
    TELEGRAM,
    TelegramConfig,
    escape_markdown_v2,
)
from walker_channels.telegram.errors import failure
from walker_channels.telegram.wire import outbound_call, send_result

TOKEN = "123456789:AAHwire-test-token_0123456789"
CONFIG = TelegramConfig(bot_token=TOKEN)
CHAT = Address(channel=TELEGRAM, value="1111111")

# The Bot API's "MarkdownV2 style" section, verbatim: "In all other places characters '_', '*',
# '[', ']', '(', ')', '~', '`', '>', '#', '+', '-', '=', '|', '{', '}', '.', '!' must be
# escaped with the preceding character '\'."
DOCUMENTED = [
    "_",
    "*",
    "[",
    "]",
    "(",
    ")",
    "~",
    "`",
    ">",
    "#",
    "+",
    "-",
    "=",
    "|",
    "{",
    "}",
    ".",
    "!",
]


def telegram_message(**fields: object) -> OutboundMessage:
    return OutboundMessage.model_validate({"channel": TELEGRAM, "to": CHAT, **fields})


def test_the_special_characters_are_the_documented_list() -> None:
    assert sorted(MARKDOWN_V2_SPECIAL) == sorted(DOCUMENTED)


@pytest.mark.parametrize("character", [*DOCUMENTED, "\\"])
def test_each_documented_character_and_the_backslash_is_escaped_in_text(character: str) -> None:
    assert escape_markdown_v2(f"a{character}b") == f"a\\{character}b"


def test_ordinary_characters_and_unicode_are_left_alone() -> None:
    text = "Hello, world: 50% off? Ümlaut 😀 \"quoted\" 'single' $ & ; @ , : ^ / < ' \""

    assert escape_markdown_v2(text) == text


def test_a_whole_sentence_is_escaped_so_it_reads_as_written() -> None:
    assert escape_markdown_v2("Order #4711 (2 items) costs 9.99 - ok!") == (
        "Order \\#4711 \\(2 items\\) costs 9\\.99 \\- ok\\!"
    )


def test_inside_code_only_the_backtick_and_backslash_are_escaped() -> None:
    assert escape_markdown_v2("a_b`c\\d.e", context="code") == "a_b\\`c\\\\d.e"


def test_inside_a_link_target_only_the_parenthesis_and_backslash_are_escaped() -> None:
    url = "https://example.com/a_(b)\\c"

    assert escape_markdown_v2(url, context="link") == "https://example.com/a_(b\\)\\\\c"


def test_text_goes_out_with_send_message_and_no_parse_mode_by_default() -> None:
    method, payload = outbound_call(telegram_message(text="*not bold*"), CONFIG)

    assert (method, payload) == ("sendMessage", {"chat_id": "1111111", "text": "*not bold*"})


def test_a_configured_parse_mode_goes_with_text_and_captions() -> None:
    config = TelegramConfig(bot_token=TOKEN, parse_mode="MarkdownV2")
    photo = Media(url="https://example.com/a.png", content_type="image/png")

    _, text = outbound_call(telegram_message(text="*bold*"), config)
    _, captioned = outbound_call(telegram_message(text="*bold*", media=(photo,)), config)

    assert text["parse_mode"] == captioned["parse_mode"] == "MarkdownV2"


@pytest.mark.parametrize(
    ("media", "method", "field"),
    [
        (Media(url="https://example.com/a.jpg", content_type="image/jpeg"), "sendPhoto", "photo"),
        (Media(url="https://example.com/photo.PNG"), "sendPhoto", "photo"),
        (
            Media(url="https://example.com/a.gif", content_type="image/gif"),
            "sendDocument",
            "document",
        ),
        (
            Media(url="https://example.com/r.pdf", content_type="application/pdf"),
            "sendDocument",
            "document",
        ),
        (Media(url="https://example.com/report"), "sendDocument", "document"),
    ],
)
def test_media_goes_out_as_a_photo_or_a_document_by_url(
    media: Media, method: str, field: str
) -> None:
    sent_method, payload = outbound_call(telegram_message(text="see this", media=(media,)), CONFIG)

    assert sent_method == method
    assert payload == {"chat_id": "1111111", field: media.url, "caption": "see this"}


def test_a_telegram_file_goes_back_out_by_its_file_id() -> None:
    media = Media(url="telegram-file:AgACAgQAAxkBAAIBbGXlarge", content_type="image/jpeg")

    method, payload = outbound_call(telegram_message(media=(media,)), CONFIG)

    assert (method, payload) == (
        "sendPhoto",
        {"chat_id": "1111111", "photo": "AgACAgQAAxkBAAIBbGXlarge"},
    )


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"text": "x" * 4097}, "4096"),
        ({"text": "😀" * 2049}, "4096"),  # UTF-16 code units, as Telegram counts
        ({"text": "   "}, "empty"),
        ({"text": "x" * 1025, "media": (Media(url="https://example.com/a.jpg"),)}, "1024"),
        ({"media": (Media(url="https://e.com/a.jpg"), Media(url="https://e.com/b.jpg"))}, "one"),
        ({"media": (Media(url="ftp://example.com/a.jpg"),)}, "http"),
        ({"media": (Media(url="data:text/vcard,BEGIN"),)}, "http"),
        ({"template": WhatsAppTemplate(content_sid="HX" + "0" * 32)}, "template"),
    ],
)
def test_what_telegram_would_refuse_is_rejected_before_sending(
    fields: dict[str, object], names: str
) -> None:
    with pytest.raises(MessageRejected, match=names):
        outbound_call(telegram_message(**fields), CONFIG)


def test_a_chat_id_must_be_a_telegram_chat_id() -> None:
    message = OutboundMessage(
        channel=TELEGRAM, to=Address(channel=TELEGRAM, value="+14155550123"), text="hi"
    )

    with pytest.raises(MessageRejected, match="chat id"):
        outbound_call(message, CONFIG)


def test_a_sent_message_is_known_by_its_message_id_and_keeps_no_chat_or_text() -> None:
    answer = {
        "ok": True,
        "result": {"message_id": 42, "chat": {"id": 1111111}, "date": 1775463300, "text": "hi"},
    }

    result = send_result(answer)

    assert (result.provider_message_id, result.status.value) == ("42", "sent")
    assert result.raw == {"message_id": 42, "date": 1775463300}


@pytest.mark.parametrize(
    ("status", "description", "code", "retryable"),
    [
        (400, "Bad Request: chat not found", "chat_not_found", False),
        (
            400,
            "Bad Request: can't parse entities: Can't find end of Bold entity",
            "cant_parse_entities",
            False,
        ),
        (400, "Bad Request: something new", "400", False),
        (401, "Unauthorized", "unauthorized", False),
        (403, "Forbidden: bot was blocked by the user", "bot_blocked", False),
        (403, "Forbidden: user is deactivated", "user_deactivated", False),
        (403, "Forbidden: bot can't initiate conversation with a user", "cannot_initiate", False),
        (404, "Not Found", "not_found", False),
        (429, "Too Many Requests: retry after 7", "too_many_requests", True),
        (502, "Bad Gateway", "502", True),
    ],
)
def test_refusals_map_by_table_to_a_clear_code(
    status: int, description: str, code: str, retryable: bool
) -> None:
    body = json.dumps({"ok": False, "error_code": status, "description": description}).encode()

    refused = failure(status, body)

    assert (refused.error.code, refused.error.retryable) == (code, retryable)
    assert description not in str(refused.error)


def test_a_person_who_blocked_the_bot_is_a_recipient_who_opted_out() -> None:
    body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}

    refused = failure(403, json.dumps(body).encode())

    assert isinstance(refused.error, RecipientOptedOut)
    assert not isinstance(failure(403, b"{}").error, RecipientOptedOut)


def test_a_flood_wait_carries_telegrams_retry_after() -> None:
    body = {"ok": False, "error_code": 429, "description": "x", "parameters": {"retry_after": 7}}

    assert failure(429, json.dumps(body).encode()).retry_after == 7.0


def test_a_proxy_page_instead_of_json_is_still_a_typed_refusal() -> None:
    refused = failure(503, b"<html>Service Unavailable</html>")

    assert (refused.error.code, refused.error.retryable, refused.retry_after) == ("503", True, None)
