"""The framework-neutral request and response every endpoint works with.

An adapter turns its framework's request into a :class:`NeutralRequest` (keeping the raw body,
so signatures can be checked over exactly what arrived) and a :class:`NeutralResponse` back
into its framework's response. Nothing here knows about FastAPI or Flask.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel

from walker_channels.exceptions import InvalidInput
from walker_channels.ports import AfterResponse
from walker_channels.storable import json_strings, require_storable
from walker_channels.web.json_depth import check_json_depth

ModelT = TypeVar("ModelT", bound=BaseModel)


MAX_FIELDS = 1000
"""The most form or query fields a request may carry."""

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


class Headers(Mapping[str, str]):
    """HTTP headers, looked up case-insensitively; repeated headers are joined with ``", "``."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        merged: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        self._items = merged

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        # Values can hold credentials (Authorization, cookies): only the names are shown.
        return f"Headers({sorted(self._items)!r})"


class MultiDict(Mapping[str, str]):
    """Fields that may repeat (a form or a query string), in the order they arrived.

    Indexing gives the first value; :meth:`getlist` every value; :meth:`params` the shape the
    signature checks and the Twilio parsers take (one string, or a tuple for a repeated name).
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.pairs: tuple[tuple[str, str], ...] = tuple(pairs)
        self._first: dict[str, str] = {}
        for name, value in self.pairs:
            self._first.setdefault(name, value)

    def __getitem__(self, name: str) -> str:
        return self._first[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getlist(self, name: str) -> list[str]:
        """Every value sent for ``name``, in order."""
        return [value for key, value in self.pairs if key == name]

    def params(self) -> dict[str, str | tuple[str, ...]]:
        """Each name with its single value, or a tuple of values when it was repeated."""
        grouped: dict[str, list[str]] = {}
        for name, value in self.pairs:
            grouped.setdefault(name, []).append(value)
        return {name: vs[0] if len(vs) == 1 else tuple(vs) for name, vs in grouped.items()}


@dataclass(frozen=True)
class NeutralRequest:
    """An HTTP request as the endpoints see it.

    ``url`` is the URL as the server received it (scheme, host, path, raw query); the public
    URL a caller used is rebuilt from it where it matters (Twilio signatures).
    """

    method: str
    url: str
    headers: Headers
    body: bytes = field(default=b"", repr=False)
    query: MultiDict = field(default_factory=MultiDict)
    path_params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse (400) a path or query value no store could hold (a NUL, a lone surrogate)."""
        require_storable(chain(self.path_params.values(), chain.from_iterable(self.query.pairs)))

    def form(self) -> MultiDict:
        """The body as an url-encoded form; raises :class:`InvalidInput` if it is not one."""
        content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != FORM_CONTENT_TYPE:
            raise InvalidInput(f"send the body as {FORM_CONTENT_TYPE}")
        try:
            text = self.body.decode("utf-8")
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                strict_parsing=True,
                errors="strict",
                max_num_fields=MAX_FIELDS,
            )
        except ValueError:
            raise InvalidInput("the body is not a well-formed url-encoded UTF-8 form") from None
        return MultiDict(pairs)

    def json_body(self, model: type[ModelT], *, optional: bool = False) -> ModelT:
        """The body as JSON validated into ``model`` (an empty body is ``{}`` if ``optional``).

        Raises :class:`InvalidInput` (400) for a body that is not JSON, that nests deeper than
        :data:`~walker_channels.web.json_depth.MAX_JSON_DEPTH` or that holds text no store can
        hold, and pydantic's ``ValidationError`` (422) for JSON that does not fit the model.
        """
        if optional and not self.body.strip():
            return model.model_validate({})
        check_json_depth(self.body)
        try:
            data = json.loads(self.body)
        except (ValueError, RecursionError):
            raise InvalidInput("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidInput("send a JSON object as the body")
        require_storable(json_strings(data))
        return model.model_validate(data)

    def query_model(self, model: type[ModelT]) -> ModelT:
        """The query string validated into ``model`` (the first value of each name)."""
        return model.model_validate(dict(self.query))


@dataclass(frozen=True)
class NeutralResponse:
    """What an endpoint answers, plus work to run after the answer is sent."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    after: tuple[AfterResponse, ...] = ()
    cookies: tuple[str, ...] = ()
    """``Set-Cookie`` header values, one header each (a mapping holds only one)."""

    @classmethod
    def json(cls, data: BaseModel | Any, status: int = 200) -> NeutralResponse:
        """A JSON response of ``data`` (a pydantic model or plain JSON-able data)."""
        plain = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
        body = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode()
        return cls(status=status, body=body, headers={"content-type": "application/json"})

    @classmethod
    def html(
        cls,
        page: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        cookies: tuple[str, ...] = (),
    ) -> NeutralResponse:
        """An HTML page (UTF-8); ``headers`` are added to the content type."""
        return cls(
            status=status,
            body=page.encode(),
            headers={"content-type": "text/html; charset=utf-8", **(headers or {})},
            cookies=cookies,
        )

    @classmethod
    def redirect(
        cls,
        location: str,
        headers: Mapping[str, str] | None = None,
        cookies: tuple[str, ...] = (),
    ) -> NeutralResponse:
        """A ``303 See Other`` to ``location``: after a form, the browser GETs the next page."""
        return cls(status=303, headers={"location": location, **(headers or {})}, cookies=cookies)

    @classmethod
    def twiml(cls, after: tuple[AfterResponse, ...] = ()) -> NeutralResponse:
        """An empty TwiML answer: Twilio needs nothing more than a quick 200."""
        return cls(
            status=200,
            body=EMPTY_TWIML,
            headers={"content-type": "text/xml; charset=utf-8"},
            after=after,
        )
