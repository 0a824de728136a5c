"""Text every store can hold: no NUL characters and no lone surrogates.

PostgreSQL refuses NUL (U+0000) in ``text`` and ``jsonb`` values, and a lone surrogate
(U+D800 to U+DFFF, which JSON's ``\\ud800`` escape can produce) has no UTF-8 form at all, so
either one would fail the whole transaction. They are dealt with at the edge instead: text
that must be kept (a person's message) has them replaced by U+FFFD, and anything else that
carries them (an id, a filter, a request body) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from walker_channels.exceptions import InvalidInput

REPLACEMENT = "\ufffd"
"""What :func:`storable` puts in place of each character a store refuses."""

UNSTORABLE_DETAIL = "text may not contain NUL characters or lone surrogates"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """Whether every store can hold ``text`` as it is."""
    return _UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """``text`` with each NUL and lone surrogate replaced by U+FFFD (itself when it has none)."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def require_storable(texts: Iterable[str]) -> None:
    """Raise :class:`InvalidInput` (400) if any of ``texts`` has a character a store refuses."""
    if any(_UNSTORABLE.search(text) for text in texts):
        raise InvalidInput(UNSTORABLE_DETAIL)


def storable_json(data: Any) -> Any:
    """Parsed JSON ``data`` with :func:`storable` applied to every string, keys included (a
    provider's webhook body is kept, not refused, when it holds such a character)."""
    if isinstance(data, str):
        return storable(data)
    if isinstance(data, list):
        return [storable_json(item) for item in data]
    if isinstance(data, dict):
        return {storable(key): storable_json(item) for key, item in data.items()}
    return data


def json_strings(data: object) -> Iterable[str]:
    """Every string in parsed JSON ``data``, object keys included (depth-first, no recursion)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from item.keys()
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
