"""Our Twilio signature check accepts the requests the official ``twilio`` package accepts.

The oracle is ``twilio.request_validator.RequestValidator`` (9.13, which knows the shared-key
HMAC-SHA256 variant). Hypothesis builds webhook requests (form or JSON), the oracle signs each
over its URL or a port variant of that URL, and the request is then either left intact or
tampered with in one way. A tampered request is refused by both validators. An intact one is
accepted by us, also where the oracle's ``urlparse`` quirks make it refuse a URL signed as it
was received (an upper-case scheme, an empty ``?``): twilio-php and twilio-csharp accept those.
The one intact request we refuse is one signed over the oracle's own mangled port-less URL.

Inputs on which the oracle itself crashes (an invalid port, a JSON body without ``bodySHA256``)
are kept out of the agreement test; our behaviour on them is specified separately below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlparse

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator, add_port, remove_port
from werkzeug.datastructures import MultiDict

from walker_channels import (
    InvalidSignature,
    SignatureAlgorithm,
    compute_twilio_signature,
    verify_twilio_signature,
)

Fields = dict[str, list[str]]
OurFields = dict[str, str | list[str]]
REPRODUCIBLE = settings(deadline=None, derandomize=True, database=None)


class Tamper(StrEnum):
    """The one thing changed between signing and verifying."""

    URL = "url"
    FIELD = "field"
    BODY = "body"
    TOKEN = "token"
    PORT = "port"
    ALGORITHM = "algorithm"


@dataclass(frozen=True)
class Url:
    """A URL kept in parts, so one part can be changed; ``query=None`` means no ``?``."""

    scheme: str
    host: str
    port: str | None
    path: str
    query: str | None

    def text(self) -> str:
        """The URL as sent."""
        port = "" if self.port is None else f":{self.port}"
        query = "" if self.query is None else f"?{self.query}"
        return f"{self.scheme}://{self.host}{port}{self.path}{query}"


@dataclass(frozen=True)
class Request:
    """What the server receives: the URL, the form fields or JSON body, and the signature."""

    token: str
    algorithm: SignatureAlgorithm
    url: Url
    fields: Fields
    body: str | None
    signature: str


@dataclass(frozen=True)
class Case:
    """A received request, and what (if anything) was changed after it was signed."""

    request: Request
    tamper: Tamper | None
    signed: str


def oracle_accepts(request: Request) -> bool:
    """The official validator's verdict (form fields as a Werkzeug MultiDict)."""
    params = request.body if request.body is not None else as_multidict(request.fields)
    return bool(
        RequestValidator(request.token).validate(
            request.url.text(), params, request.signature, algorithm=request.algorithm.value
        )
    )


def verify(request: Request) -> None:
    """Our verdict: returns, or raises InvalidSignature."""
    params = request.body if request.body is not None else as_ours(request.fields)
    verify_twilio_signature(
        request.token, request.url.text(), params, request.signature, algorithm=request.algorithm
    )


def we_accept(request: Request) -> bool:
    """Our verdict as a bool."""
    try:
        verify(request)
    except InvalidSignature:
        return False
    return True


def as_multidict(fields: Fields) -> MultiDict[str, str]:
    """Repeated fields as a Flask/Werkzeug form would carry them."""
    return MultiDict([(name, value) for name, values in fields.items() for value in values])


def as_ours(fields: Fields) -> OurFields:
    """Name to list of values, the shape a web layer collects a form into."""
    return dict(fields.items())


def as_flat(fields: Fields) -> OurFields:
    """Name to value, or to a list of values only for a repeated name."""
    return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}


# --- strategies --------------------------------------------------------------------------

NAMES = ["Body", "From", "To", "MessageSid", "NumMedia", "MediaUrl0", "ProfileName", "WaId"]
VALUES = ["", "+14155552671", "whatsapp:+14155552671", "It's amazing", "héllo 👋", "a+b=c&d"]
HOSTS = [
    *("mycompany.com", "walker.example.org", "Example.COM", "a-1.b2.example", "localhost"),
    *("127.0.0.1", "[::1]", "bücher.example", "xn--bcher-kva.example", "h"),
    *("user:pass@mycompany.com", "user@h.example"),
]
PATH_STARTS = ["/", "/api/v1/channels/whatsapp/webhook", "/myapp.php", "//a/b/", "/%7Euser/"]
QUERY_STARTS = ["", "foo=1&bar=2&", "Body=It's+amazing&", "a=%20x&b=é&", "x=1&x=2&"]
PATH_CHARS = st.characters(codec="utf-8", min_codepoint=0x21, exclude_characters="?#")
QUERY_CHARS = st.characters(codec="utf-8", min_codepoint=0x21, exclude_characters="#")
DEFAULT_PORTS = {"https": 443, "http": 80}

# A realistic start, then raw unicode text, then a percent-escaped piece.
escaped = st.text(max_size=6).map(lambda text: quote(text, safe=""))
paths = st.tuples(st.sampled_from(PATH_STARTS), st.text(PATH_CHARS, max_size=10), escaped)
queries = st.tuples(st.sampled_from(QUERY_STARTS), st.text(QUERY_CHARS, max_size=10), escaped)
hosts = st.sampled_from(HOSTS)
tokens = st.text(min_size=1, max_size=40) | st.text("0123456789abcdef", min_size=32, max_size=32)
algorithms = st.sampled_from(SignatureAlgorithm)
names = st.sampled_from(NAMES) | st.text(min_size=1, max_size=10)
values = st.sampled_from(VALUES) | st.text(max_size=20)


def grouped(pairs: list[tuple[str, str]]) -> Fields:
    """Form pairs as name -> values; names repeat often, and sometimes values too."""
    fields: Fields = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


form_fields = st.lists(st.tuples(names, values), max_size=8).map(grouped)
json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=4,
)


@st.composite
def json_bodies(draw: st.DrawFn) -> str:
    """A raw JSON body, ASCII-escaped or not."""
    document = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    return json.dumps(document, ensure_ascii=draw(st.booleans()))


@st.composite
def urls(draw: st.DrawFn) -> Url:
    """Any scheme spelling, host, port (none, default, other), path and query."""
    scheme = draw(st.sampled_from(["https", "https", "https", "http", "http", "HTTPS"]))
    default = DEFAULT_PORTS[scheme.lower()]
    port = draw(
        st.none()
        | st.sampled_from([str(default), "443", "80", "0443", "0"])
        | st.integers(1, 65535).map(str)
    )
    shape = draw(st.integers(0, 5))  # no "?", an empty "?" (a quirk), or a query
    query = None if shape == 0 else "" if shape == 1 else "".join(draw(queries))
    return Url(scheme, draw(hosts), port, "".join(draw(paths)), query)


def with_body_hash(url: Url, body: str) -> Url:
    """``url`` with the body's SHA-256 appended to its query, as Twilio does for JSON."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    query = f"{url.query}&" if url.query else ""
    return dataclasses.replace(url, query=f"{query}bodySHA256={digest}")


def signing_url(url: Url, *, with_port: bool, variant: bool) -> str:
    """The URL Twilio signed: as received or its other port spelling (the oracle's helpers)."""
    parsed = urlparse(url.text())
    has_port = url.port is not None
    if with_port:  # the signed URL must carry a port for a port change to be a tamper
        return url.text() if has_port else str(add_port(parsed))
    if not variant:
        return url.text()
    return str(remove_port(parsed) if has_port else add_port(parsed))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A request signed by the oracle, then left intact or tampered with in one way."""
    is_json = draw(st.integers(0, 3)) == 0
    body = draw(json_bodies()) if is_json else None
    url = draw(urls())
    url = with_body_hash(url, body) if body is not None else url
    fields = {} if is_json else draw(form_fields)
    tamper = draw(st.sampled_from([None, None, None, *Tamper]))
    if tamper is Tamper.FIELD and is_json:
        tamper = Tamper.BODY
    elif tamper is Tamper.BODY and not is_json:
        tamper = Tamper.FIELD
    token, algorithm = draw(tokens), draw(algorithms)
    signed = signing_url(url, with_port=tamper is Tamper.PORT, variant=draw(st.booleans()))
    oracle_params = {} if is_json else as_multidict(fields)
    signature = RequestValidator(token).compute_signature(signed, oracle_params, algorithm.value)
    request = Request(token, algorithm, url, fields, body, signature)
    if tamper is not None:
        request = draw(tampered(request, tamper, signed))
    return Case(request, tamper, signed)


def tampered(request: Request, tamper: Tamper, signed: str) -> st.SearchStrategy[Request]:
    """``request`` with one thing changed so that no URL variant matches the signature."""
    replace = dataclasses.replace
    if tamper is Tamper.URL:
        return url_changes(request.url).map(lambda url: replace(request, url=url))
    if tamper is Tamper.FIELD:
        return field_changes(request.fields).map(lambda fields: replace(request, fields=fields))
    if tamper is Tamper.BODY:
        return st.just(replace(request, body=f"{request.body} "))
    if tamper is Tamper.TOKEN:
        return st.just(replace(request, token=request.token + "x"))
    if tamper is Tamper.ALGORITHM:
        other = next(a for a in SignatureAlgorithm if a is not request.algorithm)
        return st.just(replace(request, algorithm=other))
    return st.integers(1, 65535).map(
        lambda port: replace(request, url=moved(request.url, port, signed))
    )


def moved(url: Url, port: int, signed: str) -> Url:
    """``url`` on ``port``, or on the next port if that one is the port it was signed with."""
    candidate = dataclasses.replace(url, port=str(port))
    if signed not in (candidate.text(), urlparse(candidate.text()).geturl()):
        return candidate
    return dataclasses.replace(url, port=str(port % 65535 + 1))


def url_changes(url: Url) -> st.SearchStrategy[Url]:
    """The path or query gains an ``x``, or the scheme flips between http and https."""
    flipped = "http" if url.scheme.lower() == "https" else "https"
    return st.sampled_from(
        [
            dataclasses.replace(url, path=url.path + "x"),
            dataclasses.replace(url, query=(url.query or "") + "x"),
            dataclasses.replace(url, scheme=flipped),
        ]
    )


@st.composite
def field_changes(draw: st.DrawFn, fields: Fields) -> Fields:
    """A field added (maybe empty), dropped, or every value of one field changed."""
    changed = {name: list(values) for name, values in fields.items()}
    if not changed or draw(st.booleans()):
        name = draw(names)
        while name in changed:
            name += "x"
        changed[name] = draw(st.lists(values, min_size=1, max_size=2))
        return changed
    name = draw(st.sampled_from(sorted(changed)))
    if draw(st.booleans()):
        del changed[name]
    else:
        changed[name] = [value + "x" for value in changed[name]]
    return changed


# --- specifications ----------------------------------------------------------------------


@settings(max_examples=10_000, deadline=None, derandomize=True, database=None)
@given(cases())
def test_we_accept_the_requests_the_official_validator_accepts_and_refuse_tampered_ones(
    case: Case,
) -> None:
    request = case.request
    verdict = oracle_accepts(request)
    if case.tamper is not None:
        assert verdict is False
        with pytest.raises(InvalidSignature):
            verify(request)
        return
    mangled = signed_over_the_oracles_mangled_url(request.url, case.signed)
    event(f"intact, oracle accepts: {verdict}, signed over its mangled URL: {mangled}")
    assert we_accept(request) is not mangled
    if not mangled and urlparse(case.signed).geturl() == case.signed:  # no urlparse quirk
        assert verdict is True


def signed_over_the_oracles_mangled_url(url: Url, signed: str) -> bool:
    """twilio-python cuts ``user:pass@host:port`` and ``[::1]:port`` at the first ``:``."""
    parsed = urlparse(url.text())
    if not parsed.port:
        return False
    mangles = parsed.netloc.split(":")[0] != parsed.netloc.rsplit(":", 1)[0]
    return mangles and signed == remove_port(parsed)


@settings(REPRODUCIBLE, max_examples=2_000)
@given(tokens, st.text(), form_fields | json_bodies(), algorithms)
def test_our_signature_is_the_official_packages_signature(
    token: str, url: str, params: Fields | str, algorithm: SignatureAlgorithm
) -> None:
    ours: OurFields | str = params if isinstance(params, str) else as_flat(params)
    theirs: MultiDict[str, str] | Mapping[str, str] = (
        {} if isinstance(params, str) else as_multidict(params)
    )
    expected = RequestValidator(token).compute_signature(url, theirs, algorithm.value)
    assert compute_twilio_signature(token, url, ours, algorithm=algorithm) == expected


invalid_ports = (
    st.integers(65536, 10**9).map(str)
    | st.text("abcxyz-+ ", min_size=1, max_size=5)
    | st.sampled_from(["-1", "٣", "1.5", "８０"])
)


@settings(REPRODUCIBLE, max_examples=300)
@given(urls(), invalid_ports, tokens)
def test_an_invalid_port_crashes_the_oracle_and_is_an_invalid_signature_here(
    url: Url, port: str, token: str
) -> None:
    bad = dataclasses.replace(url, port=port).text()
    signature = RequestValidator(token).compute_signature(bad, {})
    with pytest.raises(ValueError, match="Port"):
        RequestValidator(token).validate(bad, {}, signature)
    with pytest.raises(InvalidSignature, match="invalid port"):
        verify_twilio_signature(token, bad, {}, signature)


@settings(REPRODUCIBLE, max_examples=300)
@given(urls(), json_bodies(), tokens)
def test_a_json_body_without_a_body_hash_crashes_the_oracle_and_is_refused_here(
    url: Url, body: str, token: str
) -> None:
    signature = RequestValidator(token).compute_signature(url.text(), {})
    with pytest.raises(TypeError):
        RequestValidator(token).validate(url.text(), body, signature)
    with pytest.raises(InvalidSignature, match="needs bodySHA256"):
        verify_twilio_signature(token, url.text(), body, signature)


def test_an_empty_body_without_a_body_hash_is_refused_though_the_oracle_accepts_it() -> None:
    # Deliberately stricter: a str means "raw JSON body", and Twilio always adds bodySHA256
    # to JSON webhooks, so an empty body without it cannot be a genuine JSON webhook.
    url = "https://mycompany.com/myapp.php?foo=1"
    signature = RequestValidator("12345").compute_signature(url, {})
    assert RequestValidator("12345").validate(url, "", signature) is True
    with pytest.raises(InvalidSignature, match="needs bodySHA256"):
        verify_twilio_signature("12345", url, "", signature)
