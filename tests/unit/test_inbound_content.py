"""Twilio's recorded inbound payloads become messages with typed parts, and agents see them.

The payloads are under ``tests/fixtures/twilio/inbound`` (see the README there).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from walker_channels.models import (
    AgentRequest,
    Channel,
    InboundMessage,
    InteractiveKind,
    InteractiveReply,
    Location,
    Media,
    Referral,
    ReplyTo,
)
from walker_channels.twilio import parse_inbound_form

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio" / "inbound"
AT = datetime(2026, 4, 6, 8, 15, tzinfo=UTC)
SANDBOX = "+14155238886"


def recorded(name: str) -> dict[str, str]:
    """The decoded form of the recorded webhook ``name``."""
    form: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())
    return form


def parsed(name: str) -> InboundMessage:
    return parse_inbound_form(recorded(name), received_at=AT)


def test_a_plain_sms_has_text_and_no_whatsapp_parts() -> None:
    message = parsed("sms_text")

    assert message.channel is Channel.SMS
    assert message.text == "Hi, do you have the blue jacket in size M?"
    assert (message.location, message.interactive, message.referral, message.reply_to) == (
        None,
        None,
        None,
        None,
    )
    assert not message.forwarded
    assert not message.frequently_forwarded
    assert message.media == ()


def test_a_shared_location_without_text_arrives_as_its_location() -> None:
    message = parsed("whatsapp_location")

    assert message.text == ""
    assert message.location == Location(
        latitude=51.5007292,
        longitude=-0.1246254,
        address="Westminster, London SW1A 0AA, United Kingdom",
        label="Big Ben",
    )
    assert "51.5" not in repr(message)  # where a person is stays out of logs


def test_a_tapped_quick_reply_button_gives_its_payload_and_text() -> None:
    message = parsed("whatsapp_quick_reply_button")

    assert message.interactive == InteractiveReply(
        kind=InteractiveKind.BUTTON, id="confirm-booking-4711", title="Yes, confirm"
    )
    assert message.reply_to is not None
    assert message.reply_to.message_id == "MM5a7c9e1b3d5f7a9c2e4a6c8e0a2c4e6a"


def test_a_picked_list_item_gives_its_id_and_title() -> None:
    message = parsed("whatsapp_list_reply")

    assert message.interactive == InteractiveReply(
        kind=InteractiveKind.LIST, id="slot-2026-04-07-1000", title="Tuesday 10:00"
    )
    assert message.text == "Tuesday 10:00"


def test_a_click_to_whatsapp_ad_gives_the_referral() -> None:
    message = parsed("whatsapp_ctwa_referral")

    assert message.referral == Referral(
        source_id="120210987654321098",
        source_type="ad",
        source_url="https://fb.me/3kT9xYz1A",
        headline="Spring sale: 20% off all jackets",
        body="Message us on WhatsApp to reserve your size.",
        media_id="1284639120398745",
        media_content_type="image/jpeg",
        media_url="https://scontent.whatsapp.net/v/t61.29466-34/ad-creative.jpg",
        num_media=1,
        ctwa_clid=recorded("whatsapp_ctwa_referral")["ReferralCtwaClid"],
    )
    assert message.sender.value == "+15555550142"  # a fictional 555 number is accepted


def test_referral_num_media_alone_is_no_referral() -> None:
    # Twilio sends ReferralNumMedia=0 with every WhatsApp message.
    assert parsed("whatsapp_reply_to").referral is None


def test_a_reply_names_the_quoted_message_and_who_wrote_it() -> None:
    message = parsed("whatsapp_reply_to")

    assert message.reply_to is not None
    assert message.reply_to.message_id == "SM7c9e1b3d5f8a0c2e4a6c8e0a2c4e6a8c"
    assert message.reply_to.sender is not None
    assert (message.reply_to.sender.channel, message.reply_to.sender.value) == (
        Channel.WHATSAPP,
        SANDBOX,
    )


def test_a_frequently_forwarded_message_is_flagged_forwarded_too() -> None:
    message = parsed("whatsapp_forwarded")

    assert message.forwarded
    assert message.frequently_forwarded


def test_frequently_forwarded_alone_still_counts_as_forwarded() -> None:
    form = {**recorded("whatsapp_forwarded"), "Forwarded": "false"}

    message = parse_inbound_form(form, received_at=AT)

    assert (message.forwarded, message.frequently_forwarded) == (True, True)


def test_media_items_keep_their_order_and_content_types() -> None:
    message = parsed("mms_two_media")

    assert [item.content_type for item in message.media] == ["image/jpeg", "application/pdf"]
    assert all(item.url.startswith("https://api.twilio.com/2010-04-01/") for item in message.media)
    assert message.media[0].url.endswith("/Media/ME1a3c5e7a9c2e4a6c8e0a2c4e6a8c0e2a")


def test_a_button_with_text_only_is_still_a_button_reply() -> None:
    form = {**recorded("whatsapp_quick_reply_button")}
    del form["ButtonPayload"]

    message = parse_inbound_form(form, received_at=AT)

    assert message.interactive == InteractiveReply(
        kind=InteractiveKind.BUTTON, title="Yes, confirm"
    )


def test_an_unreadable_quoted_sender_leaves_the_reply_without_sender() -> None:
    form = {**recorded("whatsapp_reply_to"), "OriginalRepliedMessageSender": "whatsapp:???"}

    reply_to = parse_inbound_form(form, received_at=AT).reply_to

    assert reply_to == ReplyTo(message_id="SM7c9e1b3d5f8a0c2e4a6c8e0a2c4e6a8c")


def test_a_malformed_referral_media_count_does_not_lose_the_message() -> None:
    form = {**recorded("whatsapp_ctwa_referral"), "ReferralNumMedia": "one"}

    referral = parse_inbound_form(form, received_at=AT).referral

    assert referral is not None
    assert referral.num_media == 0


def test_an_interactive_reply_must_name_the_choice() -> None:
    with pytest.raises(ValueError, match="id or its title"):
        InteractiveReply(kind=InteractiveKind.LIST)


def request_for(message: InboundMessage) -> AgentRequest:
    """The agent request the conversation service builds for ``message``."""
    return AgentRequest(
        tenant_id="shop",
        session_id="s-1",
        channel=message.channel,
        participant=message.sender,
        text=message.text,
        media=message.media,
        location=message.location,
        interactive=message.interactive,
        referral=message.referral,
        reply_to=message.reply_to,
        forwarded=message.forwarded,
        frequently_forwarded=message.frequently_forwarded,
        message_id=message.provider_message_id,
    )


def test_the_content_block_of_plain_text_is_empty() -> None:
    assert request_for(parsed("sms_text")).content_block() == {}


def test_existing_callers_build_requests_without_the_new_parts() -> None:
    message = parsed("sms_text")
    request = AgentRequest(
        tenant_id="shop",
        session_id="s-1",
        channel=message.channel,
        participant=message.sender,
        text="hi",
    )

    assert request.location is None
    assert request.content_block() == {}


@pytest.mark.parametrize(
    ("fixture", "block"),
    [
        (
            "whatsapp_location",
            {
                "location": {
                    "latitude": 51.5007292,
                    "longitude": -0.1246254,
                    "address": "Westminster, London SW1A 0AA, United Kingdom",
                    "label": "Big Ben",
                }
            },
        ),
        (
            "whatsapp_list_reply",
            {
                "interactive": {
                    "kind": "list",
                    "id": "slot-2026-04-07-1000",
                    "title": "Tuesday 10:00",
                },
                "reply_to": {"message_id": "MM6b8d0f2a4c6e8a0c3e5a7c9e1b3d5f7b"},
            },
        ),
        ("whatsapp_forwarded", {"forwarded": True, "frequently_forwarded": True}),
        (
            "mms_two_media",
            {
                "media": [
                    {"url": recorded("mms_two_media")["MediaUrl0"], "content_type": "image/jpeg"},
                    {
                        "url": recorded("mms_two_media")["MediaUrl1"],
                        "content_type": "application/pdf",
                    },
                ]
            },
        ),
    ],
)
def test_the_content_block_holds_exactly_the_parts_present(
    fixture: str, block: dict[str, object]
) -> None:
    assert request_for(parsed(fixture)).content_block() == block


def test_the_content_block_of_an_ad_reply_skips_empty_fields_and_is_json() -> None:
    message = parsed("whatsapp_ctwa_referral")
    request = request_for(message).replace(
        referral=Referral(source_type="ad", ctwa_clid="ARAk", num_media=0)
    )

    block = request.content_block()

    assert block == {"referral": {"source_type": "ad", "ctwa_clid": "ARAk"}}
    assert json.loads(json.dumps(block)) == block


def test_the_content_block_never_carries_a_phone_number() -> None:
    message = parsed("whatsapp_quick_reply_button")

    text = json.dumps(request_for(message).content_block())

    assert SANDBOX not in text
    assert "447700900123" not in text


def test_media_without_a_declared_type_are_listed_by_url_alone() -> None:
    request = request_for(parsed("sms_text")).replace(
        media=(Media(url="https://api.twilio.com/m/1"),)
    )

    assert request.content_block() == {"media": [{"url": "https://api.twilio.com/m/1"}]}
