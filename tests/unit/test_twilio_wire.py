"""The Messages API form body: byte for byte what urllib's urlencode gives, for any text."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from walker_channels.twilio.wire import form_body

fields = st.lists(st.tuples(st.text(), st.text()), max_size=8)


@given(fields)
def test_the_form_body_is_what_urlencode_gives(form: list[tuple[str, str]]) -> None:
    assert form_body(form) == urlencode(form).encode()


@given(fields)
def test_the_form_body_parses_back_to_the_form(form: list[tuple[str, str]]) -> None:
    assert parse_qsl(form_body(form).decode(), keep_blank_values=True) == form


def test_numbers_addresses_and_emoji_are_escaped_as_twilio_reads_them() -> None:
    body = form_body([("To", "whatsapp:+14155552671"), ("Body", "Hi there 😀 & bye")])

    assert body == b"To=whatsapp%3A%2B14155552671&Body=Hi+there+%F0%9F%98%80+%26+bye"
