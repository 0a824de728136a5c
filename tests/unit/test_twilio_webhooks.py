"""Twilio's inbound-message and status-callback forms become domain objects or clear errors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walker_channels.exceptions import InvalidInput, InvalidPhoneNumber
from walker_channels.models import Channel, DeliveryStatus, DeliveryUpdate, InboundMessage
from walker_channels.twilio import (
    MESSAGE_STATUSES,
    delivery_status,
    describe_error,
    parse_inbound_form,
    parse_status_callback,
    whatsapp_details,
)

AT = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
SID = "SM" + "0123456789abcdef" * 2
PERSON = "+447911123456"
BUSINESS = "+14155550100"

Form = Mapping[str, str | Sequence[str]]


def whatsapp_form(**fields: str | Sequence[str]) -> dict[str, str | Sequence[str]]:
    """A WhatsApp text message as Twilio posts it (fields from real captures)."""
    return {
        "SmsMessageSid": SID,
        "NumMedia": "0",
        "ProfileName": "Ada",
        "MessageType": "text",
        "SmsSid": SID,
        "WaId": PERSON.removeprefix("+"),
        "SmsStatus": "received",
        "Body": "Hello, is the shop open?",
        "To": f"whatsapp:{BUSINESS}",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": SID,
        "AccountSid": "AC" + "0" * 32,
        "From": f"whatsapp:{PERSON}",
        "ApiVersion": "2010-04-01",
        **fields,
    }


def test_a_whatsapp_message_is_parsed_with_sender_recipient_and_profile() -> None:
    message = parse_inbound_form(whatsapp_form(), received_at=AT)

    assert message.channel is Channel.WHATSAPP
    assert message.provider_message_id == SID
    assert (message.sender.channel, message.sender.value) == (Channel.WHATSAPP, PERSON)
    assert message.recipient.value == BUSINESS
    assert message.text == "Hello, is the shop open?"
    assert message.profile_name == "Ada"
    assert message.media == ()
    assert message.received_at == AT


def test_every_field_is_kept_in_raw_unknown_and_repeated_ones_too() -> None:
    form = whatsapp_form(NewTwilioField="x", Tag=["a", "b"], Single=["only"])

    message = parse_inbound_form(form, received_at=AT)

    assert message.raw["NewTwilioField"] == "x"
    assert message.raw["Tag"] == ("a", "b")
    assert message.raw["Single"] == "only"
    assert message.raw["ReferralNumMedia"] == "0"
    assert set(form) <= set(message.raw)


def test_a_message_without_whatsapp_prefix_is_sms() -> None:
    form = {"MessageSid": SID, "From": PERSON, "To": BUSINESS, "Body": "hi", "NumMedia": "0"}

    message = parse_inbound_form(form, received_at=AT)

    assert message.channel is Channel.SMS
    assert message.sender.wire == PERSON


def test_media_are_read_in_order_with_their_content_types() -> None:
    form = whatsapp_form(
        Body="",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/media/ME2",
    )

    message = parse_inbound_form(form, received_at=AT)

    assert [(m.url, m.content_type) for m in message.media] == [
        ("https://api.twilio.com/media/ME1", "image/jpeg"),
        ("https://api.twilio.com/media/ME2", None),
    ]
    assert message.text == ""


def test_whatsapp_extras_stay_in_raw_and_read_back_typed() -> None:
    form = whatsapp_form(
        MessageType="location",
        Latitude="52.52",
        Longitude="13.405",
        Address="Alexanderplatz",
        Label="Meet here",
        ButtonText="Yes",
        ButtonPayload="confirm-42",
        OriginalRepliedMessageSid="SM" + "1" * 32,
        Forwarded="true",
        ReferralSourceUrl="https://ad.example/1",
    )

    details = whatsapp_details(parse_inbound_form(form, received_at=AT).raw)

    assert details.wa_id == PERSON.removeprefix("+")
    assert details.message_type == "location"
    assert details.location is not None
    assert (details.location.latitude, details.location.longitude) == (52.52, 13.405)
    assert (details.location.address, details.location.label) == ("Alexanderplatz", "Meet here")
    assert (details.button_text, details.button_payload) == ("Yes", "confirm-42")
    assert details.replied_to_message_id == "SM" + "1" * 32
    assert details.forwarded
    assert not details.frequently_forwarded
    assert details.referral == {
        "ReferralSourceUrl": "https://ad.example/1",
        "ReferralNumMedia": "0",
    }


@pytest.mark.parametrize(
    ("changes", "error", "fix"),
    [
        ({"MessageSid": ""}, InvalidInput, "MessageSid is missing"),
        ({"MessageSid": "not a sid!"}, InvalidInput, "MessageSid must be"),
        ({"MessageSid": [SID, SID]}, InvalidInput, "MessageSid was sent more than once"),
        ({"From": "whatsapp:+4479"}, InvalidPhoneNumber, "phone number"),
        ({"From": "whatsapp:hello"}, InvalidPhoneNumber, "not a phone number"),
        ({"To": BUSINESS}, InvalidInput, "both be whatsapp: addresses or both"),
        ({"NumMedia": "2", "MediaUrl0": "https://a.example/1"}, InvalidInput, "MediaUrl1"),
        ({"NumMedia": "0", "MediaUrl0": "https://a.example/1"}, InvalidInput, "NumMedia is 0"),
        ({"NumMedia": "two"}, InvalidInput, "NumMedia must be a whole number"),
        ({"NumMedia": "11"}, InvalidInput, "from 0 to 10"),
        ({"NumMedia": "1", "MediaUrl0": "ftp://a.example/1"}, InvalidInput, "http(s) URL"),
        ({"Latitude": "91", "Longitude": "0"}, InvalidInput, "Latitude must be a number"),
        ({"Latitude": "1.5"}, InvalidInput, "Longitude must be a number"),
        ({"WaId": PERSON}, InvalidPhoneNumber, "WaId"),
        ({"Body": 42}, InvalidInput, "form values must be text"),
    ],
)
def test_bad_inbound_forms_are_refused_with_what_to_fix(
    changes: dict[str, object], error: type[InvalidInput], fix: str
) -> None:
    form = {**whatsapp_form(), **changes}

    with pytest.raises(error, match=re.escape(fix)) as err:
        parse_inbound_form(form, received_at=AT)  # type: ignore[arg-type]

    assert PERSON not in str(err.value)
    assert PERSON.removeprefix("+") not in str(err.value)


def test_a_naive_receive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_inbound_form(whatsapp_form(), received_at=datetime(2026, 3, 29, 9, 30))


def status_form(**fields: str) -> dict[str, str]:
    """A WhatsApp delivery callback as Twilio posts it."""
    return {
        "ChannelPrefix": "whatsapp",
        "ApiVersion": "2010-04-01",
        "MessageStatus": "delivered",
        "SmsSid": SID,
        "SmsStatus": "delivered",
        "ChannelInstallSid": "XE" + "2" * 32,
        "To": f"whatsapp:{PERSON}",
        "From": f"whatsapp:{BUSINESS}",
        "MessageSid": SID,
        "AccountSid": "AC" + "0" * 32,
        **fields,
    }


def test_a_status_callback_becomes_a_delivery_update() -> None:
    update = parse_status_callback(status_form(), received_at=AT, ledger_key="reply:SM1")

    assert update.channel is Channel.WHATSAPP
    assert update.provider_message_id == SID
    assert update.status is DeliveryStatus.DELIVERED
    assert update.error_code is None
    assert update.ledger_key == "reply:SM1"
    assert update.occurred_at == AT
    assert update.raw["ChannelInstallSid"] == "XE" + "2" * 32


def test_a_failed_status_carries_twilios_error_code() -> None:
    form = status_form(MessageStatus="undelivered", ErrorCode="63016")

    update = parse_status_callback(form, received_at=AT)

    assert (update.status, update.error_code) == (DeliveryStatus.UNDELIVERED, "63016")
    info = describe_error(update.error_code)
    assert info is not None
    assert "24-hour window" in info.meaning
    assert not info.retryable


def test_an_sms_callback_without_prefixes_is_sms() -> None:
    form = {"MessageSid": SID, "MessageStatus": "sent", "From": BUSINESS, "ErrorCode": ""}

    update = parse_status_callback(form, received_at=AT)

    assert (update.channel, update.status, update.error_code) == (
        Channel.SMS,
        DeliveryStatus.SENT,
        None,
    )


def test_a_status_twilio_adds_later_is_unknown_not_an_error() -> None:
    update = parse_status_callback(status_form(MessageStatus="teleported"), received_at=AT)

    assert update.status is DeliveryStatus.UNKNOWN


@pytest.mark.parametrize(
    ("changes", "fix"),
    [
        ({"MessageStatus": "", "SmsStatus": ""}, "MessageStatus is missing"),
        ({"MessageSid": ""}, "MessageSid is missing"),
        ({"ErrorCode": "E63016"}, "ErrorCode must be"),
    ],
)
def test_bad_status_callbacks_are_refused(changes: dict[str, str], fix: str) -> None:
    with pytest.raises(InvalidInput, match=fix):
        parse_status_callback(status_form(**changes), received_at=AT)


def test_every_twilio_message_status_has_a_delivery_status() -> None:
    # message_enum_status of Twilio's OpenAPI spec for API 2010-04-01.
    twilio_enum = [
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "accepted",
        "scheduled",
        "read",
        "partially_delivered",
        "canceled",
    ]

    assert set(MESSAGE_STATUSES) == set(twilio_enum)
    assert delivery_status("READ") is DeliveryStatus.READ
    assert delivery_status("something-new") is DeliveryStatus.UNKNOWN
    assert delivery_status(None) is DeliveryStatus.UNKNOWN


# Property tests: whatever a client posts, the parsers answer with a domain object or a
# validation error, never with any other exception.

FIELD_NAMES = st.sampled_from(
    [
        "MessageSid",
        "From",
        "To",
        "Body",
        "NumMedia",
        "MediaUrl0",
        "MediaUrl1",
        "MediaContentType0",
        "ProfileName",
        "WaId",
        "Latitude",
        "Longitude",
        "ButtonPayload",
        "ButtonText",
        "ListId",
        "ListTitle",
        "Forwarded",
        "FrequentlyForwarded",
        "OriginalRepliedMessageSid",
        "OriginalRepliedMessageSender",
        "ReferralSourceId",
        "ReferralNumMedia",
        "ExternalUserId",
        "MessageStatus",
        "SmsStatus",
        "ErrorCode",
        "ChannelPrefix",
    ]
) | st.text(max_size=20)
PLAUSIBLE = st.sampled_from(
    [
        SID,
        PERSON,
        f"whatsapp:{PERSON}",
        BUSINESS,
        f"whatsapp:{BUSINESS}",
        "whatsapp:US.13491208655302741918",
        "+447700900123",
        "whatsapp:+15555550123",
        "true",
        "0",
        "1",
        "11",
        "-1",
        "https://api.twilio.com/m/1",
        "delivered",
        "63016",
        "nan",
        "1e400",
        "whatsapp",
        "",
    ]
)
VALUES = PLAUSIBLE | st.text(max_size=40)
FORM_VALUES = VALUES | st.lists(VALUES, max_size=3)
FORMS = st.dictionaries(FIELD_NAMES, FORM_VALUES, max_size=12)
NEAR_VALID = st.builds(
    lambda changes: {**whatsapp_form(), **changes},
    st.dictionaries(FIELD_NAMES, FORM_VALUES, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(form=FORMS | NEAR_VALID)
def test_any_inbound_form_gives_a_message_or_a_validation_error(form: Form) -> None:
    try:
        message = parse_inbound_form(form, received_at=AT)
    except InvalidInput:
        return
    assert isinstance(message, InboundMessage)
    assert set(message.raw) == {name for name, value in form.items() if value != []}


@settings(max_examples=300, deadline=None)
@given(form=FORMS | st.builds(lambda c: {**status_form(), **c}, FORMS), key=st.none() | VALUES)
def test_any_status_form_gives_an_update_or_a_validation_error(form: Form, key: str | None) -> None:
    try:
        update = parse_status_callback(form, received_at=AT, ledger_key=key)
    except InvalidInput:
        return
    assert isinstance(update, DeliveryUpdate)
    assert update.ledger_key == (key or None)
