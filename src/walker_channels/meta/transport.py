"""Sending WhatsApp through Meta's Cloud API (``POST /{version}/{phone_number_id}/messages``)."""

from __future__ import annotations

import json
from functools import partial
from types import TracebackType

import anyio
import httpx

from walker_channels.exceptions import DeliveryUnknown, TransportError
from walker_channels.meta.config import META_WHATSAPP, MetaConfig
from walker_channels.meta.errors import RETRIED, provider_error
from walker_channels.meta.wire import MAX_TEXT_CHARS, check_sendable, message_payload, send_result
from walker_channels.models import Channel, OutboundMessage, SendResult
from walker_channels.retrying import RetryNow, RetryPolicy, Sleep, retry_after_seconds

# Only a failure to connect proves nothing reached Meta, so only those are sent again. Once
# the request is being written, a broken connection may have delivered it: the outcome is
# unknown and the message is never resent blindly.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class MetaTransport:
    """A :class:`~walker_channels.ports.MessageTransport` for WhatsApp over the Cloud API.

    Pass ``client`` to share an :class:`httpx.AsyncClient` you own; otherwise the transport
    creates a pooled client and closes it in :meth:`aclose` (or ``async with``). The bearer
    token goes with every request either way. ``sleep`` replaces the waits between attempts
    (tests pass one that records them). At most ``max_in_flight`` requests are in flight.
    """

    def __init__(
        self,
        config: MetaConfig,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
        channel: Channel = META_WHATSAPP,
    ) -> None:
        self._config = config
        self._channel = channel
        self._headers = {
            "Authorization": f"Bearer {config.access_token.get_secret_value()}",
            "Content-Type": "application/json",
        }
        self._timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        self._owns_client = client is None
        self._client = client if client is not None else self._pooled_client()
        self._in_flight = anyio.Semaphore(config.max_in_flight)
        self._retry = RetryPolicy(
            config.retry, sleep=sleep if sleep is not None else anyio.sleep, provider="Meta"
        )

    @property
    def channel(self) -> Channel:
        """The channel this transport sends on."""
        return self._channel

    @property
    def max_text_length(self) -> int:
        """The Cloud API's limit on a text body: longer replies are sent in parts."""
        return MAX_TEXT_CHARS

    @property
    def config(self) -> MetaConfig:
        """The settings this transport was built with."""
        return self._config

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message``; rate limits, Meta's temporary errors and failed connects are retried.

        Raises :class:`~walker_channels.exceptions.MessageRejected` before sending what Meta
        would refuse, :class:`~walker_channels.exceptions.ProviderError` with Meta's code when
        Meta refuses (never retried), :class:`~walker_channels.exceptions.DeliveryUnknown` when
        the request may have reached Meta but no answer came back (never resent), and
        :class:`~walker_channels.exceptions.TransportError` when Meta could not be reached.
        """
        check_sendable(message, self._channel)
        payload = message_payload(message, self._config)
        sender = message.sender.value if message.sender is not None else None
        url = self._config.messages_url(sender)
        body = json.dumps(payload, ensure_ascii=False).encode()
        answer = await self._retry.call(partial(self._attempt, url, body))
        return send_result(self._channel, answer)

    async def aclose(self) -> None:
        """Close the HTTP client if the transport created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> MetaTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _attempt(self, url: str, body: bytes) -> object:
        async with self._in_flight:
            response = await self._post(url, body)
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                return None  # send_result: accepted, but no id to track: unknown
        error, kind = provider_error(response.status_code, response.content)
        if kind in RETRIED:
            delay = retry_after_seconds(response.headers.get("retry-after"))
            raise RetryNow(error, retry_after=delay)
        raise error

    async def _post(self, url: str, body: bytes) -> httpx.Response:
        try:
            return await self._client.post(
                url, content=body, headers=self._headers, timeout=self._timeout
            )
        except _NOT_SENT as exc:
            error = TransportError(
                f"could not reach Meta ({type(exc).__name__}); check the network and "
                "META_GRAPH_BASE_URL",
                retryable=True,
            )
            raise RetryNow(error) from exc
        except httpx.TransportError as exc:
            raise DeliveryUnknown(
                f"no answer from Meta after the request was sent ({type(exc).__name__}); the "
                "message may have gone out: wait for its status webhook instead of resending"
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(
                f"the request to Meta failed ({type(exc).__name__}); check META_GRAPH_BASE_URL",
                retryable=False,
            ) from exc

    def _pooled_client(self) -> httpx.AsyncClient:
        size = self._config.max_in_flight
        return httpx.AsyncClient(
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            timeout=self._timeout,
            headers={"User-Agent": "walker-channels"},
        )
