"""A message's structured content as text, for agents that take one string.

Langflow's ``input_value`` (and any plain prompt) is a single string, so a runner appends the
:meth:`~walker_channels.models.AgentRequest.content_block` to the person's text, between two
marker lines::

    Tuesday 10:00

    <message_content>
    {"interactive":{"kind":"list","id":"slot-2026-04-07-1000","title":"Tuesday 10:00"}}
    </message_content>

The block is the last thing in the string, and ``<`` and ``>`` inside it are written as
``\\u003c`` and ``\\u003e`` (still the same JSON), so the markers never occur within it. A person
can type the markers too: then an empty block (``{}``) is appended, so the last block of the
string is always this library's and never the person's.
"""

from __future__ import annotations

import json

from walker_channels.models import AgentRequest
from walker_channels.models.base import JsonObject

CONTENT_START = "<message_content>"
"""The line before the JSON block."""
CONTENT_END = "</message_content>"
"""The line after the JSON block."""


def content_json(request: AgentRequest) -> str:
    """The content block of ``request`` as compact JSON (``{}`` for plain text)."""
    return _encode(request.content_block())


def text_with_content(request: AgentRequest) -> str:
    """The person's text with the content block appended; the bare text when there is none."""
    block = request.content_block()
    if not block and CONTENT_START not in request.text.lower():
        return request.text
    delimited = f"{CONTENT_START}\n{_encode(block)}\n{CONTENT_END}"
    return f"{request.text}\n\n{delimited}" if request.text else delimited


def _encode(block: JsonObject) -> str:
    encoded = json.dumps(block, ensure_ascii=False, separators=(",", ":"))
    # < and > only occur inside JSON strings, where the \u escapes mean the same characters.
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e")
