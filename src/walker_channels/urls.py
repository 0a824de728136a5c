"""The public URL a webhook was sent to, and the spellings of it that Twilio may have signed.

Behind a TLS-terminating proxy the application sees ``http://internal-host/...``, while
Twilio signed ``https://public-host/...``. The public URL comes from a configured base URL,
or from ``X-Forwarded-Proto``/``X-Forwarded-Host`` when (and only when) the operator says the
proxy in front is trusted: anyone can send those headers to an exposed server.

Twilio is inconsistent about how it spells the URL it signs (with or without the default
port, with a query character percent-encoded or not), so :func:`signed_url_candidates` lists
the spellings to try. Each one is a spelling an official Twilio SDK tries for the same URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from urllib.parse import ParseResult, quote, unquote, urlparse, urlsplit

from walker_channels.exceptions import ConfigurationError


def api_base_url(value: str) -> str:
    """A provider API's configured base URL, checked (absolute http(s), no query) and without
    a trailing ``/``; raises ``ValueError`` (a settings validator's error)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError("must be an absolute http(s) URL without a query")
    return value.rstrip("/")


def public_request_url(
    request_url: str,
    headers: Mapping[str, str],
    *,
    public_base_url: str | None = None,
    trust_forwarded_headers: bool = False,
) -> str:
    """Rebuild the URL the caller used, keeping the path and raw query string verbatim.

    ``public_base_url`` (scheme, host, optional port and path prefix) wins when given; else the
    forwarded headers when trusted; else ``request_url`` as it is.
    """
    request = urlsplit(request_url)
    tail = request.path + (f"?{request.query}" if request.query else "")
    if public_base_url:
        base = urlsplit(public_base_url)
        # Twilio signs the URL as configured, so an upper-case scheme stays upper-case.
        scheme = public_base_url.strip().partition(":")[0]
        if scheme.lower() not in ("http", "https") or not base.netloc:
            raise ConfigurationError("the public base URL must be an absolute http(s) URL")
        return f"{scheme}://{base.netloc}{base.path.rstrip('/')}{tail}"
    if trust_forwarded_headers:
        lowered = {name.lower(): value for name, value in headers.items()}
        scheme = _first(lowered.get("x-forwarded-proto")) or request.scheme
        host = _first(lowered.get("x-forwarded-host")) or request.netloc
        return f"{scheme}://{host}{tail}"
    return request_url.split("#", 1)[0]


def _first(header: str | None) -> str:
    # Each proxy appends its own value; the first one is what the client used.
    return (header or "").split(",")[0].strip()


def signed_url_candidates(url: str) -> Iterator[str]:
    """The spellings of ``url`` to check a Twilio signature against, without duplicates.

    They are made lazily, in this order, so a check that matches the first builds no other.

    1. twilio-python's: ``urlparse(url).geturl()`` without its port and with the default port
       added (``geturl`` lower-cases the scheme and drops an empty ``?``), except that a port
       after credentials or an IPv6 literal is stripped correctly, as twilio-node does.
    2. The URL as received, without and with its port, as twilio-php and twilio-csharp spell
       it (an upper-case scheme or an empty ``?`` is kept; only the port changes).
    3. twilio-node's, for a URL that the WHATWG parser leaves alone but for the scheme's case
       and the escapes: path and query percent-encoded as ``new URL()`` does (``'`` in a query
       becomes ``%27``), and the query decoded and encoded again by Node's ``querystring``
       (``%27`` becomes ``'``, ``+`` becomes ``%20``, a repeated name's values are grouped).

    Raises :class:`ValueError` if the URL's port is not a number from 0 to 65535.
    """
    parsed = urlparse(url)
    parsed.port  # noqa: B018 -- raises ValueError for an invalid port, like twilio-python
    return _unique(_spellings(url, parsed))


def _spellings(url: str, parsed: ParseResult) -> Iterator[str]:
    # Made one at a time: most requests match the first, so the others are never built.
    yield from _python_forms(parsed)
    parts = _Parts.split(url)
    if parts is not None:
        yield from parts.port_forms()
        yield from parts.node_forms()


def _unique(forms: Iterator[str]) -> Iterator[str]:
    seen: set[str] = set()
    for form in forms:
        if form not in seen:
            seen.add(form)
            yield form


def _python_forms(parsed: ParseResult) -> Iterator[str]:
    # twilio-python's remove_port/add_port, quirks included (a port of 0 counts as none),
    # but not the port-less URL it mangles: it cuts "user:pass@host:port" or "[::1]:port" at
    # the first ":". The received spelling below strips those ports correctly instead.
    if not parsed.port:
        yield parsed.geturl()
        port = 443 if parsed.scheme == "https" else 80
        yield parsed._replace(netloc=f"{parsed.netloc}:{port}").geturl()
        return
    host = parsed.netloc.split(":")[0]
    if host == parsed.netloc.rsplit(":", 1)[0]:
        yield parsed._replace(netloc=host).geturl()
    yield parsed.geturl()


_URL = re.compile(
    r"(?P<scheme>[^:/?#]+)://(?:(?P<userinfo>[^/?#]*)@)?"
    r"(?P<host>\[[^\]/?#]*\]|[^:/?#]*)(?::(?P<port>[^/?#]*))?"
    r"(?P<path>(?:/[^?#]*)?)(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.DOTALL,
)
# What the WHATWG URL parser (and so twilio-node's ``new URL()``) leaves as it is.
_PLAIN_USERINFO = re.compile(r"[A-Za-z0-9._~!$&'()*+,%-]+(?::[A-Za-z0-9._~!$&'()*+,%-]+)?")
_PLAIN_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)
_PLAIN_PORT = re.compile(r"0|[1-9][0-9]{0,4}")
_DOT_SEGMENTS = frozenset({".", "..", "%2e", ".%2e", "%2e.", "%2e%2e"})
_PATH_ESCAPED = frozenset('"<>`{}')
_QUERY_ESCAPED = frozenset("\"<>'")
_NODE_QS_SAFE = "!'()*"  # with quote's own A-Za-z0-9_.-~: what querystring.escape keeps
_NODE_QS_MAX_PAIRS = 1000  # querystring.parse's default maxKeys
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")


@dataclass(frozen=True)
class _Parts:
    """A URL in the pieces it was received in, nothing decoded or normalised."""

    scheme: str
    userinfo: str | None
    host: str
    port: str | None
    path: str
    query: str | None
    fragment: str | None

    @classmethod
    def split(cls, url: str) -> _Parts | None:
        match = _URL.fullmatch(url)
        if match is None:
            return None
        scheme, userinfo, host, port, path, query, fragment = match.groups()
        return cls(scheme, userinfo, host, port, path, query, fragment)

    def text(self) -> str:
        userinfo = "" if self.userinfo is None else f"{self.userinfo}@"
        port = "" if self.port is None else f":{self.port}"
        query = "" if self.query is None else f"?{self.query}"
        fragment = "" if self.fragment is None else f"#{self.fragment}"
        return f"{self.scheme}://{userinfo}{self.host}{port}{self.path}{query}{fragment}"

    def port_forms(self) -> tuple[str, str]:
        """Without its port, and with its port (the scheme's default when it has none)."""
        default = "443" if self.scheme.lower() == "https" else "80"
        with_port = replace(self, port=self.port or default)
        return replace(self, port=None).text(), with_port.text()

    def node_forms(self) -> tuple[str, ...]:
        """twilio-node's spellings: ``new URL(url)`` without and with its port, and those with
        the query re-serialised by Node's ``querystring`` (its "legacy querystring" check).

        None at all where the WHATWG parser would change more than the escapes and the
        scheme's case (the host's case, dot segments, IDNA, IP address forms...): those
        rewrites are not imitated.
        """
        href = self._whatwg_href()
        if href is None:
            return ()
        default = "443" if href.scheme == "https" else "80"
        explicit = href.port not in (None, default)
        # Adding the default port joins the URL's parts, where an empty query has no "?".
        added = href if explicit else replace(href, port=default, query=href.query or None)
        forms = [replace(href, port=None).text(), added.text()]
        legacy = _node_querystring(href.query) if href.query else None
        if legacy is not None:  # parsed again, so a default port is dropped again
            forms.append(replace(href, port=None, query=legacy).text())
            if explicit:
                forms.append(replace(href, query=legacy).text())
        return tuple(forms)

    def _whatwg_href(self) -> _Parts | None:
        if not self._whatwg_plain():
            return None
        try:
            path = _escaped(self.path or "/", _PATH_ESCAPED)
            query = None if self.query is None else _escaped(self.query, _QUERY_ESCAPED)
        except UnicodeEncodeError:  # a lone surrogate: no URL Twilio could have signed
            return None
        return replace(self, scheme=self.scheme.lower(), path=path, query=query)

    def _whatwg_plain(self) -> bool:
        segments = self.path.lower().split("/")
        return (
            self.scheme.lower() in ("http", "https")
            and (self.userinfo is None or _PLAIN_USERINFO.fullmatch(self.userinfo) is not None)
            and _plain_host(self.host)
            and (self.port is None or _plain_port(self.port))
            and not _DOT_SEGMENTS.intersection(segments)
            and "\\" not in self.path
            and self.fragment is None
            and not any(ord(char) <= 0x20 for char in self.path + (self.query or ""))
        )


def _plain_host(host: str) -> bool:
    if _PLAIN_HOST.fullmatch(host) is None or "xn--" in host:
        return False
    return _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]) is None or bool(_IPV4.fullmatch(host))


def _plain_port(port: str) -> bool:
    return _PLAIN_PORT.fullmatch(port) is not None and int(port) <= 65535


def _escaped(text: str, escaped: frozenset[str]) -> str:
    return "".join(
        "".join(f"%{byte:02X}" for byte in char.encode())
        if char in escaped or ord(char) >= 0x7F
        else char
        for char in text
    )


def _node_querystring(query: str) -> str | None:
    """Node's ``querystring.stringify(querystring.parse(query))``, or None where not sure."""
    pairs = [piece.partition("=") for piece in query.split("&") if piece]
    if len(pairs) > _NODE_QS_MAX_PAIRS:
        return None
    values: dict[str, list[str]] = {}
    try:
        for name, _, value in pairs:
            values.setdefault(_node_unescape(name), []).append(_node_unescape(value))
    except UnicodeDecodeError:  # Node would substitute U+FFFD; not imitated
        return None
    # A JavaScript object lists integer-like keys first, in numeric order.
    indexes = sorted((name for name in values if _is_array_index(name)), key=int)
    names = [*indexes, *(name for name in values if not _is_array_index(name))]
    return "&".join(
        f"{quote(name, safe=_NODE_QS_SAFE)}={quote(value, safe=_NODE_QS_SAFE)}"
        for name in names
        for value in values[name]
    )


def _node_unescape(text: str) -> str:
    # decodeURIComponent after "+" -> " "; a malformed escape stays as it is, as in Node.
    return unquote(text.replace("+", " "), errors="strict")


def _is_array_index(name: str) -> bool:
    return _ARRAY_INDEX.fullmatch(name) is not None and int(name) < 2**32 - 1
