"""Dates and times a caller may send: RFC 3339 text, within years every store can hold.

Python's ``datetime`` spans years 1 to 9999, so ``0001-01-01T00:00:00+14:00`` cannot even be
converted to UTC, and a year-1 ``end`` cannot be moved back by the default 30-day range. The
types here accept years :data:`FIRST_YEAR` to :data:`LAST_YEAR` as written, which leaves room
for any offset and for the day-sized steps the services take. Text must be the RFC 3339 form
(a number is not a time), and the OpenAPI schema states the same rule as a ``pattern``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from walker_channels.models.base import AwareDatetime

FIRST_YEAR, LAST_YEAR = 1900, 9998
"""The years (as written, before any offset is applied) a request's dates may name."""

_YEAR = r"(?:19\d\d|[2-8]\d{3}|9[0-8]\d\d|99[0-8]\d|999[0-8])"
_DAY = rf"{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
_OFFSET = r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
DATE_PATTERN = rf"^{_DAY}$"
"""A full date, ``2024-05-01``."""
DATETIME_PATTERN = rf"^{_DAY}T{_TIME}{_OFFSET}$"
"""A date-time with its offset, ``2024-05-01T09:30:00Z`` or ``...T11:30:00.5+02:00``."""

_DATE_TEXT = re.compile(DATE_PATTERN)
_DATETIME_TEXT = re.compile(DATETIME_PATTERN)
_RANGE = f"between the years {FIRST_YEAR} and {LAST_YEAR}"
_DATETIME_RULE = f"give an RFC 3339 date-time with an offset (2024-05-01T09:30:00Z), {_RANGE}"
_DATE_RULE = f"give a date as YYYY-MM-DD, {_RANGE}"


def _datetime_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATETIME_TEXT.fullmatch(value):
        return value
    raise ValueError(_DATETIME_RULE)


def _date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        return value
    raise ValueError(_DATE_RULE)


def _datetime_in_range(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_DATETIME_RULE)
    return value


def _date_in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_DATE_RULE)
    return value


RequestDatetime = Annotated[
    AwareDatetime,
    BeforeValidator(_datetime_text),
    AfterValidator(_datetime_in_range),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}),
]
"""An aware datetime from a request: RFC 3339 text (or a ``datetime``) within the years."""

RequestDate = Annotated[
    date,
    BeforeValidator(_date_text),
    AfterValidator(_date_in_range),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
"""A date from a request: ``YYYY-MM-DD`` text (or a ``date``) within the years."""
