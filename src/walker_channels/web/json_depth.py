"""How deeply a JSON body nests, measured before it is parsed.

Python's ``json`` module parses recursively: a body of a few thousand ``[`` raises
``RecursionError``, and a merely deep one is parsed only for pydantic and the stores to recurse
over it again. :func:`check_json_depth` refuses such a body first. Most bodies open fewer
brackets in total than the limit allows in depth, which two ``bytes.count`` calls show; only
the rest are measured, with the strings taken out first (a ``"["`` in a text does not nest).
"""

from __future__ import annotations

import re
from itertools import accumulate, repeat
from operator import sub

from walker_channels.exceptions import InvalidInput

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects a JSON body may have."""

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = bytes(set(range(256)) - set(b"[]{}"))
# Openers become 2 and closers 0, so that subtracting 1 from each gives the step in depth.
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (for well-formed JSON)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET).translate(_STEPS)
    return max(accumulate(map(sub, brackets, repeat(1))), default=0)


def check_json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`InvalidInput` (400) if ``body`` nests deeper than ``limit``."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    if json_depth(body) > limit:
        raise InvalidInput(f"the JSON body nests deeper than {limit} levels")
