"""Downloading the media of inbound messages from Twilio, and from nowhere else.

A ``MediaUrlN`` of Twilio's webhook names ``https://api.twilio.com/2010-04-01/Accounts/AC…/
Messages/MM…/Media/ME…``. Twilio enforces HTTP Basic auth on it (account SID and auth token, or
an API key and its secret) and answers with a redirect (302/307) to a short-lived signed URL on
its CDN (``mms.twiliocdn.com``). :func:`fetch_media` follows exactly that, by hand:

- every URL, the first and each redirect target, must be ``https`` on a host of the
  :class:`MediaPolicy` (Twilio's API and ``*.twiliocdn.com``) on the default port, without
  user info; anything else is refused before a request is made. The URL comes from a form
  field, and fetching whatever it names would let a forged or replayed payload reach internal
  services (SSRF);
- the credentials go only to the policy's ``credential_hosts`` (``api.twilio.com``), never to
  the CDN, whose URL is signed;
- the body is streamed and refused once it passes ``max_bytes`` (the ``Content-Length`` is
  checked first), and its content type must be on the allowlist.

An account whose media still redirects to another host (older accounts were sent to an S3
bucket URL) adds that host to its own :class:`MediaPolicy`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

import httpx
from pydantic import Field

from walker_channels.exceptions import InvalidInput, PayloadTooLarge, TransportError
from walker_channels.models import Media
from walker_channels.models.base import Frozen

MAX_MEDIA_BYTES = 16 * 1024 * 1024
"""16 MB: the largest media WhatsApp carries through Twilio (error 11751 past it; MMS stops
at 5 MB), so no genuine inbound item is refused by default."""

TWILIO_MEDIA_HOSTS = ("api.twilio.com", "*.twiliocdn.com")
"""Twilio's media URL host and its media CDN (``mms.twiliocdn.com``, ``media.twiliocdn.com``)."""

TWILIO_CREDENTIAL_HOSTS = ("api.twilio.com",)
"""The hosts that get the account's credentials: Twilio's API, not the signed CDN URLs."""

MEDIA_TYPES = frozenset(
    {
        # Images, stickers, audio (voice notes are audio/ogg), video, documents and contact
        # cards: what WhatsApp and MMS deliver to a business.
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
        "application/pdf",
        "text/plain",
        "text/vcard",
        "text/x-vcard",
    }
)
"""The content types :func:`fetch_media` accepts by default; ``"image/*"`` style entries work
in a caller's own allowlist."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class MediaPolicy(Frozen):
    """Where media may be fetched from. The default is Twilio's hosts over HTTPS only.

    ``hosts`` and ``credential_hosts`` are exact names or ``*.example.com`` patterns (which
    match subdomains only). ``allow_http_loopback_for_tests`` also accepts plain HTTP on any
    port, for loopback hosts (``127.0.0.1``, ``::1``, ``localhost``) that are in ``hosts``:
    a test server standing in for Twilio.
    """

    hosts: tuple[str, ...] = TWILIO_MEDIA_HOSTS
    credential_hosts: tuple[str, ...] = TWILIO_CREDENTIAL_HOSTS
    max_redirects: int = Field(default=3, ge=0, le=10)
    allow_http_loopback_for_tests: bool = False


TWILIO_MEDIA_POLICY = MediaPolicy()
"""Twilio's API and media CDN, over HTTPS, at most 3 redirects."""


class FetchedMedia(Frozen):
    """The bytes of one media item and the content type its server gave."""

    content: bytes = Field(repr=False)
    content_type: str


async def fetch_media(
    item: Media,
    *,
    client: httpx.AsyncClient,
    account_sid: str,
    auth_token: str,
    max_bytes: int = MAX_MEDIA_BYTES,
    allowed_types: Collection[str] = MEDIA_TYPES,
    policy: MediaPolicy = TWILIO_MEDIA_POLICY,
) -> FetchedMedia:
    """Download ``item`` (a :class:`~walker_channels.models.Media` of an inbound message).

    ``account_sid``/``auth_token`` are the HTTP Basic credentials (an API key SID and secret
    work too). Raises :class:`InvalidInput` for a URL or redirect outside ``policy`` (before
    any request to it) or a content type outside ``allowed_types``,
    :class:`PayloadTooLarge` past ``max_bytes``, and :class:`TransportError` when the download
    fails (``retryable`` for network errors, 429 and 5xx).
    """
    url = _checked(item.url, policy)
    for _ in range(policy.max_redirects + 1):
        auth = httpx.BasicAuth(account_sid, auth_token) if _sends_credentials(url, policy) else None
        try:
            async with client.stream("GET", url, auth=auth, follow_redirects=False) as response:
                if response.status_code in _REDIRECTS:
                    url = _checked(_location(response), policy, redirect=True)
                    continue
                _check_status(response.status_code)
                content_type = _content_type(response, item, allowed_types)
                content = await _read(response, max_bytes)
        except httpx.HTTPError as exc:
            raise TransportError(
                f"could not download the media ({type(exc).__name__})",
                retryable=isinstance(exc, httpx.TransportError),
            ) from exc
        return FetchedMedia(content=content, content_type=content_type)
    raise TransportError(
        f"the media URL redirected more than {policy.max_redirects} times", retryable=False
    )


def _checked(text: str, policy: MediaPolicy, *, redirect: bool = False) -> httpx.URL:
    # The URL is parsed by httpx itself, so the host checked is the host connected to.
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        url = None
    if url is None or not _allowed(url, policy):
        what = "the media URL redirected to a URL" if redirect else "the media URL"
        raise InvalidInput(
            f"{what} is not on a Twilio media host: only https URLs on "
            f"{', '.join(policy.hosts)} are fetched"
        )
    return url


def _allowed(url: httpx.URL, policy: MediaPolicy) -> bool:
    host = url.host.lower()
    if url.userinfo or not _matches(host, policy.hosts):
        return False
    if url.scheme == "https":
        return url.port in (None, 443)
    return url.scheme == "http" and policy.allow_http_loopback_for_tests and _is_loopback(host)


def _sends_credentials(url: httpx.URL, policy: MediaPolicy) -> bool:
    return _matches(url.host.lower(), policy.credential_hosts)


def _matches(host: str, patterns: tuple[str, ...]) -> bool:
    for pattern in (p.lower() for p in patterns):
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _location(response: httpx.Response) -> str:
    location = response.headers.get("location")
    if not location:
        raise TransportError("the media server redirected without a Location", retryable=False)
    return str(response.url.join(location))


def _check_status(status: int) -> None:
    if status == 200:
        return
    hint = {
        401: "check the account SID and auth token (or API key and secret)",
        403: "check that the credentials belong to the account that received the message",
        404: "the media was deleted or the URL is wrong",
    }.get(status, "try again later" if status == 429 or status >= 500 else "")
    raise TransportError(
        f"the media server answered HTTP {status}" + (f": {hint}" if hint else ""),
        retryable=status == 429 or status >= 500,
    )


def _content_type(response: httpx.Response, item: Media, allowed: Collection[str]) -> str:
    declared = response.headers.get("content-type") or item.content_type or ""
    content_type = declared.split(";", 1)[0].strip().lower()
    major = content_type.partition("/")[0]
    if not content_type or (content_type not in allowed and f"{major}/*" not in allowed):
        raise InvalidInput(
            f"media of type {content_type[:100] or 'unknown'} is not accepted: allow it in "
            "allowed_types if the agent can use it"
        )
    return content_type


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    length = response.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():  # decoded: a gzip bomb counts at full size
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)  # leaving the stream closes it: the rest is never read
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the media is larger than the limit of {max_bytes} bytes: raise max_bytes to accept it"
    )
