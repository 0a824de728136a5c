"""The public URL a webhook was sent to, which is what Twilio signed.

Behind a TLS-terminating proxy the application sees ``http://internal-host/...``, while
Twilio signed ``https://public-host/...``. The public URL comes from a configured base URL,
or from ``X-Forwarded-Proto``/``X-Forwarded-Host`` when (and only when) the operator says the
proxy in front is trusted: anyone can send those headers to an exposed server.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from walker_channels.exceptions import ConfigurationError


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
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ConfigurationError("the public base URL must be an absolute http(s) URL")
        return f"{base.scheme}://{base.netloc}{base.path.rstrip('/')}{tail}"
    if trust_forwarded_headers:
        lowered = {name.lower(): value for name, value in headers.items()}
        scheme = _first(lowered.get("x-forwarded-proto")) or request.scheme
        host = _first(lowered.get("x-forwarded-host")) or request.netloc
        return f"{scheme}://{host}{tail}"
    return request_url.split("#", 1)[0]


def _first(header: str | None) -> str:
    # Each proxy appends its own value; the first one is what the client used.
    return (header or "").split(",")[0].strip()
