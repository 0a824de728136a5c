"""Sending WhatsApp and SMS through Twilio's Messages API over one pooled httpx client."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from types import TracebackType
from urllib.parse import urlencode

import anyio
import httpx

from walker_channels.exceptions import DeliveryUnknown, TransportError
from walker_channels.models import (
    Channel,
    LookupResult,
    LookupVerdict,
    OutboundMessage,
    SendResult,
)
from walker_channels.twilio import lookup
from walker_channels.twilio.config import TwilioConfig
from walker_channels.twilio.errors import provider_error, retried_now
from walker_channels.twilio.limits import MAX_BODY_CHARS, check_sendable
from walker_channels.twilio.pacing import Pacer, SenderPacer, SharedSenderPacer
from walker_channels.twilio.pool import ShardedTransport
from walker_channels.twilio.retrying import RetryNow, RetryPolicy, Sleep, retry_after_seconds
from walker_channels.twilio.wire import message_form, send_result, sender_key

# Failures before the request left: nothing reached Twilio, so sending again is safe.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)
# Failures after the request left: Twilio may have the message; resending could send it twice.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


class TwilioTransport:
    """A :class:`~walker_channels.ports.MessageTransport` for one channel (WhatsApp or SMS).

    Pass ``client`` to share an :class:`httpx.AsyncClient` you own (its connection limits
    should allow ``max_in_flight`` connections); otherwise the transport creates a pooled
    client and closes it in :meth:`aclose` (or ``async with``). The transport sends its own
    Basic auth, so a shared client needs none. ``sleep`` replaces the waits between attempts
    and of the rate limit (tests pass one that records them). At most ``max_in_flight``
    requests are in flight at once, and each sender is held to ``rate_per_sender`` when set:
    in this process, or across every process that shares ``rate_limit_storage`` (Redis).
    """

    def __init__(
        self,
        config: TwilioConfig,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._config = config
        self._url = httpx.URL(config.messages_url)
        self._timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        headers = {
            "Authorization": _basic_auth(config),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self._owns_client = client is None
        # An owned client carries auth and timeouts itself; a shared one gets them per request.
        self._client = client if client is not None else self._pooled_client(headers)
        self._request_headers = None if self._owns_client else headers
        self._in_flight = anyio.Semaphore(config.max_in_flight)
        wait = sleep if sleep is not None else anyio.sleep
        self._pacer = _pacer(config, wait)
        self._retry = RetryPolicy(config.retry, sleep=wait)

    @property
    def channel(self) -> Channel:
        """The channel this transport sends on."""
        return self._config.channel

    @property
    def max_text_length(self) -> int:
        """Twilio's limit on ``Body``: longer replies are sent in parts."""
        return MAX_BODY_CHARS

    @property
    def config(self) -> TwilioConfig:
        """The settings this transport was built with."""
        return self._config

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message``; retries network failures, 5xx and 429 as the retry settings say.

        Raises :class:`~walker_channels.exceptions.MessageRejected` before sending what Twilio
        would refuse, :class:`~walker_channels.exceptions.ProviderError` with Twilio's code when
        Twilio refuses, :class:`~walker_channels.exceptions.DeliveryUnknown` when the request
        may have reached Twilio but no answer came back (it is never resent), and
        :class:`~walker_channels.exceptions.TransportError` when Twilio could not be reached.
        """
        check_sendable(message, self.channel)
        form = message_form(message, self._config)
        body = urlencode(form).encode()
        payload = await self._retry.call(partial(self._attempt, body, sender_key(form)))
        return send_result(self.channel, payload)

    async def look_up(self, message: OutboundMessage, *, since: datetime) -> LookupResult:
        """Whether Twilio has ``message``, created at ``since`` or later (a
        :class:`~walker_channels.ports.SendLookup`): its message list, read page by page.

        Raises :class:`~walker_channels.exceptions.TransportError` when Twilio cannot be read.
        """
        reason = lookup.undecidable(message)
        if reason is not None:
            return LookupResult(verdict=LookupVerdict.UNDECIDABLE, reason=reason)
        form = message_form(message, self._config)
        url: httpx.URL | None = self._url.copy_with(params=lookup.lookup_params(form, since))
        matches: list[Mapping[str, object]] = []
        for _ in range(lookup.MAX_PAGES):
            if url is None:
                return lookup.verdict(matches)
            page = await self._read(url)
            matches.extend(lookup.candidates(page, form, since))
            path = lookup.next_page(page)
            url = None if path is None else self._url.join(path)
        return LookupResult(
            verdict=LookupVerdict.UNDECIDABLE, reason="too many messages to read through"
        )

    async def aclose(self) -> None:
        """Close the HTTP client if the transport created it, and the shared limit's pool."""
        if self._pacer is not None:
            await self._pacer.aclose()
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> TwilioTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _attempt(self, body: bytes, sender: str) -> object:
        if self._pacer is not None:
            await self._pacer.wait_turn(sender)
        async with self._in_flight:
            response = await self._post(body)
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                return None
        error = provider_error(response.status_code, response.content)
        if retried_now(response.status_code):
            delay = retry_after_seconds(response.headers.get("retry-after"))
            raise RetryNow(error, retry_after=delay)
        raise error

    async def _post(self, body: bytes) -> httpx.Response:
        try:
            return await self._client.post(
                self._url,
                content=body,
                headers=self._request_headers,
                timeout=self._timeout if self._request_headers else httpx.USE_CLIENT_DEFAULT,
            )
        except _NOT_SENT as exc:
            error = TransportError(
                f"could not reach Twilio ({type(exc).__name__}); check the network and the API "
                "base URL",
                retryable=True,
            )
            raise RetryNow(error) from exc
        except _MAYBE_SENT as exc:
            raise DeliveryUnknown(
                f"no answer from Twilio after the request was sent ({type(exc).__name__}); the "
                "message may have gone out: wait for its status callback instead of resending"
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(
                f"the request to Twilio failed ({type(exc).__name__}); check the API base URL",
                retryable=False,
            ) from exc

    async def _read(self, url: httpx.URL) -> Mapping[str, object]:
        headers = (
            None
            if self._request_headers is None
            else {"Authorization": self._request_headers["Authorization"]}
        )
        try:
            async with self._in_flight:
                response = await self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise TransportError(
                f"could not read Twilio's message list ({type(exc).__name__})", retryable=True
            ) from exc
        if not response.is_success:
            raise provider_error(response.status_code, response.content)
        try:
            page = response.json()
        except ValueError as exc:
            raise TransportError("Twilio's message list was not JSON", retryable=True) from exc
        if not isinstance(page, Mapping):
            raise TransportError("Twilio's message list was not an object", retryable=True)
        return page

    def _pooled_client(self, headers: dict[str, str]) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=ShardedTransport(self._config.max_in_flight),
            timeout=self._timeout,
            headers={"User-Agent": "walker-channels", **headers},
        )


def _pacer(config: TwilioConfig, sleep: Sleep) -> Pacer | None:
    rate = config.rate_per_sender
    if rate is None:
        return None
    if config.rate_limit_storage is not None:
        return SharedSenderPacer(rate, config.rate_limit_storage, sleep=sleep)
    return SenderPacer(rate, sleep=sleep)


def _basic_auth(config: TwilioConfig) -> str:
    pair = f"{config.auth_user}:{config.auth_token.get_secret_value()}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
