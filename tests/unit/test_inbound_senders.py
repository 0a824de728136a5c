"""Whoever Twilio signs a webhook for is accepted as sender; typed numbers stay strictly checked.

Twilio does not retry a webhook answered with a 4xx, so refusing a signed sender loses the
message. Senders that are possible numbers (right length for their country, whether or not
``phonenumbers`` lists the range) and WhatsApp business-scoped user ids are accepted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from senders import SENDERS
from walker_channels.exceptions import InvalidPhoneNumber
from walker_channels.models import Address, Channel
from walker_channels.phones import (
    inbound_identifier,
    normalize_phone,
    parse_address,
    parse_inbound_address,
    phone_address,
)
from walker_channels.signatures import verify_twilio_signature
from walker_channels.testing.signer import TwilioSigner
from walker_channels.twilio import parse_inbound_form

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio" / "inbound"
AT = datetime(2026, 4, 6, 8, 15, tzinfo=UTC)
TOKEN = "inbound-senders-auth-token"
WEBHOOK_URL = "https://shop.example/twilio/whatsapp"
SID = "SM" + "4d" * 16
BUSINESS = "+14155238886"


def recorded(name: str) -> dict[str, str]:
    form: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())
    return form


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("+15555550123", "fictional North American 555-01xx"),
        ("+447700900123", "UK drama range 07700 900xxx"),
        ("+33639980000", "French fiction range 06 39 98"),
    ],
)
def test_a_possible_but_unlisted_number_is_accepted_inbound_only(number: str, why: str) -> None:
    assert inbound_identifier(f"whatsapp:{number}") == number, why
    assert inbound_identifier(number) == number
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(number)  # a typed number must still be valid
    with pytest.raises(InvalidPhoneNumber):
        phone_address(number, Channel.SMS)


def test_an_inbound_number_is_normalised_to_e164() -> None:
    assert inbound_identifier(" whatsapp:+44 7700 900123 ") == "+447700900123"


def test_a_business_scoped_sender_is_kept_as_its_opaque_id() -> None:
    message = parse_inbound_form(recorded("whatsapp_business_scoped_user"), received_at=AT)

    assert message.channel is Channel.WHATSAPP
    assert message.sender == Address(channel=Channel.WHATSAPP, value="US.13491208655302741918")
    assert message.sender.wire == "whatsapp:US.13491208655302741918"  # replies go back to it
    assert message.sender.wire == message.raw["ExternalUserId"]
    assert message.recipient.value == BUSINESS


@pytest.mark.parametrize(
    "wire",
    [
        "whatsapp:US.13491208655302741918",
        "whatsapp:ID.4566546130240823",
        "whatsapp:HK.ENT.1a2b3c4d5e6f7a8b",
        "whatsapp:+447700900123",
        "+15555550123",
    ],
)
def test_the_wire_form_round_trips(wire: str) -> None:
    assert parse_inbound_address(wire).wire == wire


@pytest.mark.parametrize(
    ("raw", "fix"),
    [
        ("whatsapp:hello", "not a phone number"),
        ("whatsapp:+4479", "not a possible phone number"),
        ("whatsapp:12", "not a phone number"),
        ("whatsapp:not-a-number", "not a phone number"),
        ("US.13491208655302741918", "not a phone number"),  # an id only means something on WhatsApp
        ("whatsapp:us.13491208655302741918", "not a phone number"),
        ("whatsapp:US.", "not a phone number"),
        ("whatsapp:US.1.2.3", "not a phone number"),
        ("whatsapp:US.12 34", "not a phone number"),
        ("whatsapp:+999123456789", "not a phone number"),  # no such country code
    ],
)
def test_what_is_neither_a_possible_number_nor_an_id_is_refused(raw: str, fix: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match=fix) as err:
        inbound_identifier(raw)

    assert raw.removeprefix("whatsapp:") not in str(err.value)


def test_the_strict_parser_still_refuses_unlisted_numbers() -> None:
    with pytest.raises(InvalidPhoneNumber, match="not a valid phone number"):
        parse_address("whatsapp:+447700900123")


# Property: forms shaped like Twilio's, signed with the account's token and checked as the web
# layer checks them, always parse when the sender is a possible number or a business-scoped id.


def twilio_form(sender: str, body: str) -> dict[str, str]:
    whatsapp = sender.startswith("whatsapp:")
    form = {
        "SmsMessageSid": SID,
        "NumMedia": "0",
        "SmsSid": SID,
        "SmsStatus": "received",
        "Body": body,
        "To": f"whatsapp:{BUSINESS}" if whatsapp else BUSINESS,
        "NumSegments": "1",
        "MessageSid": SID,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        form |= {"ProfileName": "Ada", "MessageType": "text", "ReferralNumMedia": "0"}
        if not sender.removeprefix("whatsapp:+").isdigit():
            form["ExternalUserId"] = sender
    return form


@settings(max_examples=300, deadline=None)
@given(sender=SENDERS, body=st.text(max_size=60))
def test_a_signed_form_from_any_possible_sender_parses(sender: str, body: str) -> None:
    form = twilio_form(sender, body)
    signature = TwilioSigner(TOKEN).signature(WEBHOOK_URL, form)
    verify_twilio_signature(TOKEN, WEBHOOK_URL, form, signature)

    message = parse_inbound_form(form, received_at=AT)

    assert message.sender.wire == sender
    assert message.channel is (Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS)


@pytest.mark.parametrize("raw", ["12345", "898211", "ACME", "Acme Shop", "INFO-24"])
def test_sms_short_codes_and_alphanumeric_senders_are_kept_as_sent(raw: str) -> None:
    assert inbound_identifier(raw) == raw
    address = parse_inbound_address(raw)
    assert (address.channel, address.wire) == (Channel.SMS, raw)


@pytest.mark.parametrize("raw", ["whatsapp:12345", "whatsapp:ACME", "12", "TOOLONGSENDERID"])
def test_short_codes_and_alphanumeric_ids_mean_nothing_elsewhere(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        inbound_identifier(raw)
