"""Bot API calls over one pooled httpx connection pool, without ever showing a URL.

Every Bot API URL holds the bot token (``/bot<token>/<method>``). ``httpx.AsyncClient`` logs
each request's URL at INFO and its errors carry the request, so this module sends through
the pool (:class:`httpx.AsyncHTTPTransport`) itself: nothing logs the URL, and the errors
raised here name only the failure's class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from walker_channels.exceptions import DeliveryUnknown, TransportError
from walker_channels.telegram.config import TelegramConfig

# Failures before the request left: nothing reached Telegram, so sending again is safe.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)
# Failures after the request left: Telegram may have sent the message; resending could repeat it.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class BotAnswer:
    """Telegram's HTTP answer to one method call."""

    status: int
    body: bytes


class NotSent(TransportError):
    """Telegram could not be reached; nothing was sent, so trying again is safe."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class BotApi:
    """Calls one bot's methods; ``transport`` replaces the pool (a test's, or a shared one,
    which the caller then closes)."""

    def __init__(
        self, config: TelegramConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._config = config
        self._owns_pool = transport is None
        limits = httpx.Limits(
            max_connections=config.max_in_flight, max_keepalive_connections=config.max_in_flight
        )
        self._pool = transport or httpx.AsyncHTTPTransport(limits=limits)
        self._timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)

    async def call(self, method: str, payload: Mapping[str, object]) -> BotAnswer:
        """POST ``payload`` as JSON to ``method``; the answer whatever its status.

        Raises :class:`NotSent` when Telegram was not reached, :class:`DeliveryUnknown` when
        the request may have arrived but no answer came back, and :class:`TransportError`
        for any other failure of the request.
        """
        request = httpx.Request(
            "POST",
            self._config.method_url(method),
            json=dict(payload),
            headers={"User-Agent": "walker-channels"},
            extensions={"timeout": self._timeout.as_dict()},
        )
        try:
            response = await self._pool.handle_async_request(request)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
        except _NOT_SENT as exc:
            raise NotSent(
                f"could not reach Telegram ({type(exc).__name__}); check the network and "
                "TELEGRAM_API_BASE_URL"
            ) from None  # the cause would hold the URL, and with it the token
        except _MAYBE_SENT as exc:
            raise DeliveryUnknown(
                f"no answer from Telegram after {method} was sent ({type(exc).__name__}); the "
                "message may have gone out: do not resend it blindly"
            ) from None
        except httpx.HTTPError as exc:
            raise TransportError(
                f"the request to Telegram failed ({type(exc).__name__}); check "
                "TELEGRAM_API_BASE_URL",
                retryable=False,
            ) from None
        return BotAnswer(response.status_code, body)

    async def aclose(self) -> None:
        """Close the pool if this object made it."""
        if self._owns_pool:
            await self._pool.aclose()
