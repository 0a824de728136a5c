"""Reply text and confidence out of a Langflow ``/api/v1/run`` response (pure, no I/O).

Langflow moved the reply text between versions, and one response often holds it in several
places (see the reference, section 1). Every ``outputs[*].outputs[*]`` entry is considered,
chat outputs (``component_id`` starting with ``ChatOutput``) first, and in each entry the text
is looked for at, in order::

    results.message.text          current releases and the /run docs
    results.message.data.text     1.0/1.1-era Message-as-Data form
    outputs.message.message       the Quickstart script's path
    messages[0].message           the message list

(and the same under the output name ``text``, which Text Output components use).

Confidence comes from, in order: ``confidence_path`` into the chosen output entry when it is
configured and present there; a reply text that is itself a JSON object with ``text`` and
``confidence`` (what an LLM asked for structured output returns); else the configured default.
A confidence that is present but not a number in [0, 1] makes the reply invalid.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence

from walker_channels.exceptions import InvalidAgentReply

PathPart = str | int
Path = tuple[PathPart, ...]

CHAT_OUTPUT_PREFIX = "ChatOutput"
TEXT_PATHS: tuple[Path, ...] = (
    ("results", "message", "text"),
    ("results", "message", "data", "text"),
    ("outputs", "message", "message"),
    ("results", "text", "text"),
    ("results", "text", "data", "text"),
    ("outputs", "text", "message"),
    ("messages", 0, "message"),
)
"""Where an output entry may hold its text, most specific first."""

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_MISSING = object()


def parse_path(dotted: str) -> Path:
    """``"results.message.data.confidence"`` -> parts; all-digit parts index into lists."""
    parts = dotted.strip().split(".")
    if not dotted.strip() or any(not part for part in parts):
        raise ValueError(f"{dotted!r} is not a dotted path such as 'results.message.confidence'")
    return tuple(int(part) if part.isdigit() else part for part in parts)


def dig(value: object, path: Sequence[PathPart]) -> object:
    """The value at ``path`` inside nested dicts and lists, or ``None`` when any step is missing."""
    for part in path:
        if isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value):
            value = value[part]
            continue
        if not (isinstance(part, str) and isinstance(value, Mapping) and part in value):
            return None
        value = value[part]
    return value


def output_entries(response: Mapping[str, object]) -> list[Mapping[str, object]]:
    """Every ``outputs[*].outputs[*]`` entry that is an object, chat outputs first (stable)."""
    entries = [entry for run in _objects(response.get("outputs")) for entry in _entries(run)]
    return sorted(entries, key=lambda entry: not is_chat_output(entry))


def component_id(entry: Mapping[str, object]) -> str | None:
    """The entry's component id, wherever this Langflow version put it."""
    for path in (("component_id",), ("results", "message", "component_id")):
        found = dig(entry, path)
        if isinstance(found, str):
            return found
    found = dig(entry, ("messages", 0, "component_id"))
    return found if isinstance(found, str) else None


def is_chat_output(entry: Mapping[str, object]) -> bool:
    """Whether the entry comes from a Chat Output component."""
    return (component_id(entry) or "").startswith(CHAT_OUTPUT_PREFIX)


def entry_text(entry: Mapping[str, object]) -> str | None:
    """The first non-blank text found at one of :data:`TEXT_PATHS`, else ``None``."""
    for path in TEXT_PATHS:
        found = dig(entry, path)
        if isinstance(found, str) and found.strip():
            return found
    return None


def select_output(response: object) -> tuple[Mapping[str, object], str]:
    """The output entry that carries the reply and its text; :class:`InvalidAgentReply` if none."""
    if not isinstance(response, Mapping):
        raise InvalidAgentReply(
            f"Langflow answered with a JSON {type(response).__name__}, not an object with outputs"
        )
    for entry in output_entries(response):
        text = entry_text(entry)
        if text is not None:
            return entry, text
    raise InvalidAgentReply(
        "Langflow's response holds no reply text in any output (looked for "
        "results.message.text, results.message.data.text, outputs.message.message and "
        "messages[0].message): check that the flow ends in a Chat Output component"
    )


def parse_confidence(value: object) -> float:
    """A confidence as a float in [0, 1]; anything else (strings, NaN, 1.5, booleans) is invalid."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidAgentReply(
            f"the agent's confidence is a {type(value).__name__}, expected a number from 0 to 1"
        )
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise InvalidAgentReply("the agent's confidence must be a finite number from 0 to 1")
    return number


def structured_reply(text: str) -> tuple[str, object] | None:
    """``(text, confidence or _MISSING)`` when ``text`` is a JSON object with a ``text`` key.

    A Markdown code fence around the JSON (a habit of LLMs) is tolerated. Plain text, and JSON
    without a ``text`` key, are not structured: ``None``.
    """
    candidate = text.strip()
    fenced = _FENCE.match(candidate)
    if fenced:
        candidate = fenced.group(1)
    if not candidate.startswith("{"):
        return None
    try:
        parsed = json.loads(candidate)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or "text" not in parsed:
        return None
    inner = parsed["text"]
    if not isinstance(inner, str) or not inner.strip():
        raise InvalidAgentReply("the agent's JSON reply has no usable 'text' string")
    return inner, parsed.get("confidence", _MISSING)


def extract_reply(
    response: object,
    *,
    default_confidence: float | None = None,
    confidence_path: Path | None = None,
) -> tuple[str, float | None, Mapping[str, object]]:
    """Reply text, confidence and the chosen output entry of a Langflow run response."""
    entry, text = select_output(response)
    structured = structured_reply(text)
    if structured is not None:
        text = structured[0]
    if confidence_path is not None:
        found = dig(entry, confidence_path)
        if found is not None:
            return text, parse_confidence(found), entry
    if structured is not None and structured[1] is not _MISSING and structured[1] is not None:
        return text, parse_confidence(structured[1]), entry
    return text, default_confidence, entry


def _objects(value: object) -> Iterator[Mapping[str, object]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, Mapping))


def _entries(run: Mapping[str, object]) -> Iterator[Mapping[str, object]]:
    # ResultData entries may be null when a vertex produced nothing.
    yield from _objects(run.get("outputs"))


def error_detail(content: bytes, *, limit: int = 200) -> str:
    """A short, one-line reason from a Langflow error body.

    FastAPI puts it in ``detail``; Langflow's 500s make ``detail`` a JSON *string* holding
    ``{"message", "traceback", ...}``, of which only ``message`` is kept (never the traceback).
    """
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return "the error body is not JSON"
    detail = body.get("detail") if isinstance(body, Mapping) else None
    text = " ".join((_detail_text(detail) or "no detail given").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _detail_text(detail: object) -> str | None:
    if isinstance(detail, str):
        try:
            inner = json.loads(detail)
        except ValueError:
            return detail
        return _detail_text(inner) if isinstance(inner, Mapping) else detail
    if isinstance(detail, Mapping):
        message = detail.get("message", detail.get("msg"))
        return message if isinstance(message, str) else None
    if isinstance(detail, list):
        parts = [
            text
            for item in detail
            if isinstance(item, Mapping | str) and (text := _detail_text(item))
        ]
        return "; ".join(parts) or None
    return None
