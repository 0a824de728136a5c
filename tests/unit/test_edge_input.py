"""The rules bad input meets at the edge: JSON depth, storable text, request times, store errors."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, date, datetime

import pytest
import sqlalchemy.exc
from pydantic import BaseModel, ValidationError

from walker_channels.exceptions import InvalidInput, StoreError
from walker_channels.metrics import decode_cursor, encode_cursor
from walker_channels.models import RequestDate, RequestDatetime
from walker_channels.storable import is_storable, json_strings, require_storable, storable
from walker_channels.web import error_response
from walker_channels.web.json_depth import MAX_JSON_DEPTH, check_json_depth, json_depth


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": null}]}', 3),
        (b'{"a": "[[[[{{{{"}', 1),
        (b'["\\"[[[", ["x"]]', 2),
        (b"[" * 5000 + b"]" * 5000, 5000),
    ],
)
def test_json_depth_counts_nesting_outside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_a_body_past_the_depth_limit_is_invalid_input() -> None:
    check_json_depth(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    with pytest.raises(InvalidInput, match="nests deeper than 32"):
        check_json_depth(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))


def test_brackets_in_strings_never_count_against_the_limit() -> None:
    check_json_depth(b'{"text": "' + b"[" * 10_000 + b'"}')


def test_nul_and_lone_surrogates_are_replaced_or_refused() -> None:
    assert storable("a\x00b\ud800c") == "a\ufffdb\ufffdc"
    assert storable("plain 😀") == "plain 😀"
    assert is_storable("😀")
    assert not is_storable("\udfff")
    with pytest.raises(InvalidInput):
        require_storable(json_strings({"ok": ["fine", {"k\x00": 1}]}))
    require_storable(json_strings({"ok": ["fine", {"k": 1}]}))


class _Window(BaseModel):
    start: RequestDatetime | None = None
    day: RequestDate | None = None


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1700000000", "2024-05-01T09:00"],
)
def test_request_times_outside_the_years_or_not_rfc_3339_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        _Window(start=value)  # type: ignore[arg-type]


def test_request_times_and_dates_within_the_years_are_kept() -> None:
    window = _Window(start="1900-01-01T00:00:00+14:00", day="9998-12-31")  # type: ignore[arg-type]
    assert window.start is not None
    assert window.start.isoformat() == "1900-01-01T00:00:00+14:00"
    assert window.day == date(9998, 12, 31)
    with pytest.raises(ValidationError):
        _Window(day=date(1, 1, 1))
    with pytest.raises(ValidationError):
        _Window(day=1)  # type: ignore[arg-type]


def test_a_cursor_holding_a_time_without_a_utc_form_is_invalid_input() -> None:
    forged = base64.urlsafe_b64encode(b"0001-01-01T00:00:00+14:00|ev").decode()
    with pytest.raises(InvalidInput):
        decode_cursor(forged)
    at = datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, "ev-1")) == (at, "ev-1")


def test_a_store_error_is_logged_with_its_cause_but_not_the_statement_or_its_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    wrapped = sqlalchemy.exc.DataError("INSERT ... VALUES (%s)", ("+14155552671",), driver)
    try:
        raise StoreError("the database failed (DataError)") from wrapped
    except StoreError as error:
        with caplog.at_level(logging.ERROR, logger="walker_channels.web"):
            response = error_response(error, where="whatsapp_webhook")

    assert response.status == 503
    assert b"the database failed" in response.body
    assert "whatsapp_webhook" in caplog.text
    assert "sqlalchemy.exc.DataError <- builtins.ValueError" in caplog.text
    assert "+14155552671" not in caplog.text
    assert "INSERT" not in caplog.text
    assert "NUL" not in caplog.text
