"""The Twilio transport's HTTP seam over aiohttp (the ``aiohttp`` extra): a C HTTP parser.

aiohttp's errors are sorted by when they can happen. Before a connection exists
(:class:`aiohttp.ClientConnectorError`: DNS, refused, TLS handshake, proxy; and
:class:`aiohttp.ConnectionTimeoutError`) nothing was written: not sent. Every other failure
comes once a connection carried the request or could have (:class:`aiohttp.ServerDisconnectedError`,
the read timeout's :class:`aiohttp.SocketTimeoutError`, :class:`aiohttp.ClientPayloadError`, a
reset as :class:`aiohttp.ClientOSError`, a malformed answer): maybe sent. aiohttp only retries
a dropped keep-alive connection for idempotent methods, so a POST is never repeated behind
our back.
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
import httpx
import sniffio
from yarl import URL

from walker_channels.exceptions import ConfigurationError
from walker_channels.twilio.config import TwilioConfig
from walker_channels.twilio.http import (
    USER_AGENT,
    HttpResponse,
    RequestInvalid,
    RequestMaybeSent,
    RequestNotSent,
)

_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_INVALID = (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)


class AiohttpClient:
    """:class:`~walker_channels.twilio.http.HttpClient` over one pooled
    :class:`aiohttp.ClientSession` holding up to ``config.max_in_flight`` connections.

    The session is opened on the first request, since aiohttp binds it to the running loop
    (asyncio only: on trio pick httpx).
    """

    def __init__(self, config: TwilioConfig) -> None:
        self._limit = config.max_in_flight
        # httpx's semantics: connect_timeout bounds the connect (TLS included), read_timeout
        # each read. No pool wait: the transport never has more requests than connections.
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None,
            sock_connect=config.connect_timeout,
            sock_read=config.read_timeout,
        )
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None
    ) -> HttpResponse:
        """The answer to ``method url`` (see :class:`~walker_channels.twilio.http.HttpClient`)."""
        if self._closed:  # as httpx does: a closed client must not quietly open a new pool
            raise RuntimeError("the Twilio transport's HTTP client is closed")
        session = self._session if self._session is not None else self._open()
        try:
            # encoded=True: the transport's URLs are already percent-encoded (httpx built
            # them); requoting could change them and costs CPU per request.
            target = URL(url, encoded=True)
            async with session.request(method, target, data=body, headers=headers) as response:
                content = await response.read()
                return HttpResponse(response.status, response.headers.get("Retry-After"), content)
        except _NOT_SENT as exc:
            raise RequestNotSent(type(exc).__name__) from exc
        except _INVALID as exc:
            raise RequestInvalid(type(exc).__name__) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise RequestMaybeSent(type(exc).__name__) from exc

    async def aclose(self) -> None:
        """Close the session and its connections; later requests raise :class:`RuntimeError`."""
        self._closed = True
        if self._session is not None:
            await self._session.close()

    def _open(self) -> aiohttp.ClientSession:
        if sniffio.current_async_library() != "asyncio":
            raise ConfigurationError(
                "aiohttp runs on asyncio only: set TWILIO_HTTP_CLIENT=httpx (or http_client="
                '"httpx" in TwilioConfig) on another event loop'
            )
        connector = aiohttp.TCPConnector(
            limit=self._limit,
            limit_per_host=0,
            ssl=httpx.create_ssl_context(),  # the same CA bundle as the httpx client
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            headers={"User-Agent": USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),  # Twilio sets none; a jar costs CPU per answer
        )
        return self._session
