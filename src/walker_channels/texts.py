"""Message text rules: how long a text is on the wire, and splitting a long reply into parts."""

from __future__ import annotations

import re
from collections.abc import Callable

_PARAGRAPHS = re.compile(r"\n[ \t]*\n\s*")
_SENTENCES = re.compile(r"(?<=[.!?…。！？])\s+")
_WORDS = re.compile(r"\s+")
_LEVELS = ((_PARAGRAPHS, "\n\n"), (_SENTENCES, " "), (_WORDS, " "))
"""Where a text may be cut, best first, and what joins the pieces put back in one part."""


def utf16_length(text: str) -> int:
    """``text``'s length in UTF-16 code units, as SMS and Twilio count it (an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(
    text: str, limit: int, *, length: Callable[[str], int] = utf16_length
) -> list[str] | None:
    """``text`` in parts of at most ``limit`` (by ``length``), cut at paragraphs, then
    sentences, then words; ``None`` when a single word is longer than ``limit``.

    Each part is as full as the cut points allow, so a text that fits is one part. Whitespace
    at a cut is dropped; the words themselves are never changed.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = text.strip()
    if length(text) <= limit:
        return [text]
    return _split(text, limit, 0, length)


def _split(text: str, limit: int, level: int, length: Callable[[str], int]) -> list[str] | None:
    if level == len(_LEVELS):
        return None
    pattern, joiner = _LEVELS[level]
    parts: list[str] = []
    current = ""
    for piece in (p.strip() for p in pattern.split(text)):
        if not piece:
            continue
        if length(piece) > limit:
            smaller = _split(piece, limit, level + 1, length)
            if smaller is None:
                return None
            if current:
                parts.append(current)
            parts.extend(smaller[:-1])
            current = smaller[-1]
            continue
        joined = f"{current}{joiner}{piece}" if current else piece
        if length(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts
