"""Escaping text for Telegram's MarkdownV2, by the rules of the Bot API's "Formatting options".

In ordinary text each of ``_ * [ ] ( ) ~ ` > # + - = | { } . !`` must be escaped with a ``\\``,
and so must ``\\`` itself (any character from 1 to 126 may be escaped; an unescaped ``\\``
would escape what follows). Inside ``pre`` and ``code`` entities only ``\\`` and the backtick
are escaped; inside the ``(...)`` of an inline link only ``\\`` and ``)``. Text escaped here
reads in the chat exactly as written.
"""

from __future__ import annotations

import re
from typing import Literal

MARKDOWN_V2_SPECIAL = "_*[]()~`>#+-=|{}.!"
"""The characters Telegram's docs list as needing a ``\\`` in ordinary MarkdownV2 text."""

Context = Literal["text", "code", "link"]

_ESCAPED: dict[Context, re.Pattern[str]] = {
    "text": re.compile("([" + re.escape(MARKDOWN_V2_SPECIAL + "\\") + "])"),
    "code": re.compile(r"([`\\])"),
    "link": re.compile(r"([)\\])"),
}


def escape_markdown_v2(text: str, *, context: Context = "text") -> str:
    """``text`` escaped for MarkdownV2: ``text`` (ordinary), ``code`` (inside a ``pre`` or
    ``code`` entity) or ``link`` (inside the ``(...)`` of an inline link).

    Use it for every value put into a MarkdownV2 message, e.g.
    ``f"*Order* {escape_markdown_v2(order_id)} is ready"``.
    """
    return _ESCAPED[context].sub(r"\\\1", text)
