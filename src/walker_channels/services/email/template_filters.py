"""Jinja2 filters the email templates use to format figures."""

from __future__ import annotations

import math
from collections.abc import Callable
from urllib.parse import urlsplit


def number(value: object) -> str:
    """``1234`` as ``1,234``, ``0.5`` as ``0.5``, ``2.345`` as ``2.35``; text as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    if isinstance(value, int) or value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def signed_pct(value: object) -> str:
    """A change in percent with its sign: ``+5%``, ``-2.5%``, ``±0%``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return ""
    if value == 0:
        return "±0%"
    return f"{'+' if value > 0 else '-'}{number(abs(value))}%"


def link(value: object) -> str:
    """``value`` if it is an http(s) or mailto URL; anything else (``javascript:``) fails."""
    text = str(value).strip()
    if urlsplit(text).scheme.lower() not in {"https", "http", "mailto"}:
        raise ValueError("links in emails must be http(s) or mailto URLs")
    return text


FILTERS: dict[str, Callable[[object], str]] = {
    "link": link,
    "number": number,
    "signed_pct": signed_pct,
}
"""The filters every email template can use."""
