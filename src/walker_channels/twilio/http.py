"""The Twilio transport's HTTP seam: one method that sends a request and reads the whole answer.

Each client behind it (httpx here, aiohttp in :mod:`walker_channels.twilio.aio`) sorts its own
failures into the two outcomes that matter to a send: :class:`RequestNotSent` when the request
cannot have been written (DNS, refused or timed-out connect, TLS handshake), so sending again is
safe, and :class:`RequestMaybeSent` once a connection carried it (dropped connection, read
timeout, bad answer), when Twilio may have the message.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import NamedTuple, Protocol

import httpx

from walker_channels.exceptions import ConfigurationError
from walker_channels.twilio.config import HttpClientName, TwilioConfig
from walker_channels.twilio.pool import ShardedTransport

USER_AGENT = "walker-channels"


class HttpResponse(NamedTuple):
    """A whole answer: status, the ``Retry-After`` header when present, and the body."""

    status: int
    retry_after: str | None
    content: bytes


class HttpFailure(Exception):
    """A request that got no answer; ``kind`` names the client's own error (safe to log)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class RequestNotSent(HttpFailure):
    """The request cannot have reached the server: sending it again is safe."""


class RequestMaybeSent(HttpFailure):
    """The request may have reached the server: sending it again could repeat it."""


class RequestInvalid(HttpFailure):
    """The request could not be made at all (a bad URL): trying again cannot help."""


class HttpClient(Protocol):
    """Sends one request and reads the whole answer, raising an :class:`HttpFailure`."""

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HttpResponse:
        """The answer to ``method url``; raises :class:`RequestNotSent`,
        :class:`RequestMaybeSent` or :class:`RequestInvalid` when there is none."""
        ...


# httpx: failures before the request left, and after it may have (a partial write cannot
# form a request the server acts on, so write errors count as not sent).
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)
_MAYBE_SENT = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


class HttpxClient:
    """:class:`HttpClient` over an :class:`httpx.AsyncClient` (pure Python, any anyio loop)."""

    def __init__(self, client: httpx.AsyncClient, timeout: httpx.Timeout | None = None) -> None:
        self._client = client
        self._timeout = timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HttpResponse:
        """The answer to ``method url`` (see :class:`HttpClient`)."""
        try:
            response = await self._client.request(
                method, url, content=body, headers=headers, timeout=self._timeout
            )
        except _NOT_SENT as exc:
            raise RequestNotSent(type(exc).__name__) from exc
        except _MAYBE_SENT as exc:
            raise RequestMaybeSent(type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise RequestInvalid(type(exc).__name__) from exc
        return HttpResponse(
            response.status_code, response.headers.get("retry-after"), response.content
        )


def open_client(config: TwilioConfig, stack: AsyncExitStack) -> HttpClient:
    """The pooled client ``config.http_client`` names, closed with ``stack``.

    ``auto`` picks aiohttp when it is installed (with its C parser a send costs a third to a
    fifth of httpx's CPU, docs/performance.md) and httpx otherwise.
    """
    name: HttpClientName = config.http_client
    if name == "auto":
        name = "aiohttp" if importlib.util.find_spec("aiohttp") is not None else "httpx"
    timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
    if name == "aiohttp":
        try:
            from walker_channels.twilio.aio import AiohttpClient
        except ImportError as exc:
            raise ConfigurationError(
                "TWILIO_HTTP_CLIENT=aiohttp needs aiohttp: pip install 'walker-channels[aiohttp]'"
            ) from exc
        aio = AiohttpClient(config)
        stack.push_async_callback(aio.aclose)
        return aio
    client = httpx.AsyncClient(
        transport=ShardedTransport(config.max_in_flight),
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
    )
    stack.push_async_callback(client.aclose)
    return HttpxClient(client)
