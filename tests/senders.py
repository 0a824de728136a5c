"""Hypothesis strategies for the senders Twilio signs webhooks for (shared by the test folders).

Possible numbers that ``phonenumbers`` does not list as valid, WhatsApp business-scoped user
ids, and SMS short codes and alphanumeric sender ids: none of them may cost a message.
"""

from __future__ import annotations

import phonenumbers
from hypothesis import assume
from hypothesis import strategies as st


@st.composite
def possible_unlisted_numbers(draw: st.DrawFn) -> str:
    """An E.164 number of a possible length for its country that is not a valid number."""
    region = draw(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
    code = phonenumbers.country_code_for_region(region)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    assert metadata.general_desc is not None
    lengths = [n for n in metadata.general_desc.possible_length if n > 0] or [8]
    length = draw(st.sampled_from(lengths))
    digits = draw(st.text("0123456789", min_size=length, max_size=length))
    text = f"+{code}{digits}"
    number = phonenumbers.parse(text, None)
    assume(phonenumbers.is_possible_number(number) and not phonenumbers.is_valid_number(number))
    # Twilio sends E.164: skip digits that E.164 writes differently (a national prefix 0).
    assume(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == text)
    return text


BUSINESS_SCOPED_IDS = st.builds(
    lambda country, ids: ".".join([country, *ids]),
    st.sampled_from(["US", "GB", "ID", "BR", "IN", "HK", "DE"]),
    st.lists(
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1),
        min_size=1,
        max_size=2,
    ),
).filter(lambda text: all(len(part) <= 64 for part in text.split(".")))

SMS_OPAQUE_SENDERS = st.one_of(
    st.text("0123456789", min_size=3, max_size=8),
    st.from_regex(r"[A-Z][A-Za-z0-9]{0,10}", fullmatch=True),
)
"""Short codes and alphanumeric sender ids."""

SENDERS = st.one_of(
    possible_unlisted_numbers().map(lambda number: f"whatsapp:{number}"),
    possible_unlisted_numbers(),  # SMS
    BUSINESS_SCOPED_IDS.map(lambda identifier: f"whatsapp:{identifier}"),
    SMS_OPAQUE_SENDERS,
)
"""Every form of ``From`` a signed webhook may carry (``whatsapp:`` for WhatsApp)."""
