"""Twilio webhook signatures (``X-Twilio-Signature``), computed and verified without I/O.

Twilio signs ``URL + name1 + value1 + name2 + value2 ...`` (parameters sorted by name,
repeated values sorted and de-duplicated) with HMAC-SHA1 keyed by the Auth Token, or with
HMAC-SHA256 keyed by a shared key when ``X-Twilio-Webhooks-Signature-Settings`` says so.
Because Twilio is inconsistent about how it spells the URL it signs, the signature is checked
against each spelling in :func:`walker_channels.urls.signed_url_candidates` (without and with
the default port, as received, escaped as twilio-node escapes it), every one of them a spelling
an official Twilio SDK accepts. JSON webhooks sign the URL only and carry ``bodySHA256`` (hex
SHA-256 of the raw body) in its query.

Meta signs the raw body alone (``X-Hub-Signature-256``): :func:`compute_hub_signature`, which
:mod:`walker_channels.meta` verifies and the test kit signs with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from enum import StrEnum
from urllib.parse import ParseResult, parse_qs, urlparse

from walker_channels.exceptions import ConfigurationError, InvalidSignature
from walker_channels.urls import signed_url_candidates

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"

TwilioParams = Mapping[str, str | Sequence[str]]
"""Form fields by name: one string, or a sequence of strings for a repeated field.

Multi-dicts (Werkzeug's ``MultiDict``/``request.form``, aiohttp's ``MultiDict``) work as they
are: every value of a repeated field is read through ``getlist``/``getall``.
"""


class SignatureAlgorithm(StrEnum):
    """The HMAC Twilio used: SHA-1 with the Auth Token, or SHA-256 with a shared key."""

    HMAC_SHA1 = "HMAC_SHA1"
    HMAC_SHA256 = "HMAC_SHA256"


_DIGESTS = {SignatureAlgorithm.HMAC_SHA1: "sha1", SignatureAlgorithm.HMAC_SHA256: "sha256"}


def signature_algorithm(settings_header: str | None) -> SignatureAlgorithm:
    """The algorithm named by ``X-Twilio-Webhooks-Signature-Settings`` (absent: HMAC-SHA1).

    Raises :class:`InvalidSignature` for an algorithm this library does not know.
    """
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            try:
                return SignatureAlgorithm(value.strip().upper())
            except ValueError:
                raise InvalidSignature("unsupported webhook signature algorithm") from None
    return SignatureAlgorithm.HMAC_SHA1


def compute_twilio_signature(
    auth_token: str,
    url: str,
    params: TwilioParams | str | None = None,
    *,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.HMAC_SHA1,
) -> str:
    """The signature Twilio sends for a request to ``url`` with ``params``.

    A ``str`` for ``params`` is a raw JSON body: only the URL is signed (the body is covered
    by the ``bodySHA256`` query parameter, which the caller puts in ``url``).
    """
    key = _key(auth_token)
    suffix = b"" if isinstance(params, str) else _param_bytes(params)
    return _sign(key, url.encode(), suffix, _DIGESTS[algorithm])


def verify_twilio_signature(
    auth_token: str,
    url: str,
    params: TwilioParams | str | None,
    signature: str | None,
    *,
    algorithm: SignatureAlgorithm = SignatureAlgorithm.HMAC_SHA1,
) -> None:
    """Check a Twilio webhook signature; raise :class:`InvalidSignature` unless it matches.

    ``url`` is the public URL Twilio called (see :func:`public_request_url`), ``params`` the
    decoded form fields (or the raw JSON body as ``str``), ``signature`` the header value.
    """
    key = _key(auth_token)
    if not signature:
        raise InvalidSignature("missing X-Twilio-Signature header")
    parsed = urlparse(url)
    try:
        candidates = signed_url_candidates(url)
    except ValueError:
        raise InvalidSignature("the request URL has an invalid port") from None
    if isinstance(params, str):
        _verify_body_hash(parsed, params)
        suffix = b""
    else:
        suffix = _param_bytes(params)
    expected = signature.encode()
    digest = _DIGESTS[algorithm]
    for candidate in candidates:
        if hmac.compare_digest(_sign(key, candidate.encode(), suffix, digest).encode(), expected):
            return
    raise InvalidSignature("signature does not match the URL and parameters")


def _key(auth_token: str) -> bytes:
    if not auth_token:
        raise ConfigurationError("a Twilio auth token (or shared key) is required to sign")
    return auth_token.encode()


def _param_bytes(params: TwilioParams | None) -> bytes:
    if not params:
        return b""
    parts: list[str] = []
    for name in sorted(params):
        parts.extend(name + item for item in sorted(set(_values(params, name))))
    return "".join(parts).encode()


def _values(params: TwilioParams, name: str) -> Sequence[str]:
    # A multi-dict's __getitem__ returns only the first value of a repeated field.
    for method in ("getall", "getlist"):
        every = getattr(params, method, None)
        if callable(every):
            values: Sequence[str] = every(name)
            return values
    value = params[name]
    return (value,) if isinstance(value, str) else value


def _sign(key: bytes, url: bytes, suffix: bytes, digest: str) -> str:
    return base64.b64encode(hmac.digest(key, url + suffix, digest)).decode()


def _verify_body_hash(parsed: ParseResult, body: str) -> None:
    claimed = parse_qs(parsed.query).get("bodySHA256")
    if not claimed:
        raise InvalidSignature("a JSON body needs bodySHA256 in the signed URL")
    actual = hashlib.sha256(body.encode()).hexdigest()
    if not hmac.compare_digest(actual.encode(), claimed[0].encode()):
        raise InvalidSignature("bodySHA256 does not match the request body")


HUB_SIGNATURE_HEADER = "X-Hub-Signature-256"
"""Meta's webhook signature header: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""


def compute_hub_signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``, keyed by the app secret."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
