"""Sending WhatsApp and SMS through Twilio's Messages API over one pooled HTTP client."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from contextlib import AsyncExitStack
from datetime import datetime
from functools import partial
from types import TracebackType

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
from walker_channels.ports import Pacer
from walker_channels.retrying import RetryNow, RetryPolicy, Sleep, retry_after_seconds
from walker_channels.twilio import lookup
from walker_channels.twilio.config import TwilioConfig
from walker_channels.twilio.errors import provider_error, retried_now
from walker_channels.twilio.http import (
    HttpClient,
    HttpFailure,
    HttpResponse,
    HttpxClient,
    RequestInvalid,
    RequestMaybeSent,
    RequestNotSent,
    open_client,
)
from walker_channels.twilio.limits import MAX_BODY_CHARS, check_sendable
from walker_channels.twilio.pacing import pacer_for
from walker_channels.twilio.wire import form_body, message_form, send_result, sender_key


class TwilioTransport:
    """A :class:`~walker_channels.ports.MessageTransport` for one channel (WhatsApp or SMS).

    Pass ``client`` to share an :class:`httpx.AsyncClient` (or any
    :class:`~walker_channels.twilio.http.HttpClient`) you own (its connection limits should
    allow ``max_in_flight`` connections); otherwise the transport creates the pooled client
    ``config.http_client`` names and closes it in :meth:`aclose` (or ``async with``). The
    transport sends its own Basic auth and timeouts, so a shared client needs neither.
    ``sleep`` replaces the waits between attempts and of the rate limit (tests pass one that
    records them). At most ``max_in_flight`` requests are in flight at once, and each sender
    is held to ``rate_per_sender`` when set: in this process, or across every process that
    shares ``rate_limit_storage`` (Redis).
    """

    def __init__(
        self,
        config: TwilioConfig,
        *,
        client: httpx.AsyncClient | HttpClient | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._config = config
        self._url = httpx.URL(config.messages_url)
        self._post_url = config.messages_url
        self._auth = {"Authorization": _basic_auth(config)}
        self._post_headers = {**self._auth, "Content-Type": "application/x-www-form-urlencoded"}
        self._closing = AsyncExitStack()
        self._client: HttpClient
        if client is None:
            self._client = open_client(config, self._closing)
        elif isinstance(client, httpx.AsyncClient):
            timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
            self._client = HttpxClient(client, timeout)
        else:
            self._client = client
        # fast_acquire: a free slot is taken without a trip through the event loop; the
        # request right after is the checkpoint.
        self._in_flight = anyio.Semaphore(config.max_in_flight, fast_acquire=True)
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
        body = form_body(form)
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
        await self._closing.aclose()

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
            try:
                await self._pacer.wait_turn(sender)
            except TransportError as exc:  # the shared store is away: nothing sent, retry
                raise RetryNow(exc) from exc.__cause__
        async with self._in_flight:
            response = await self._post(body)
        if 200 <= response.status < 300:
            try:
                return json.loads(response.content)
            except ValueError:
                return None
        error = provider_error(response.status, response.content)
        if retried_now(response.status):
            raise RetryNow(error, retry_after=retry_after_seconds(response.retry_after))
        raise error

    async def _post(self, body: bytes) -> HttpResponse:
        try:
            return await self._client.request(
                "POST", self._post_url, headers=self._post_headers, body=body
            )
        except RequestNotSent as exc:
            error = TransportError(
                f"could not reach Twilio ({exc.kind}); check the network and the API base URL",
                retryable=True,
            )
            raise RetryNow(error) from exc.__cause__
        except RequestMaybeSent as exc:
            raise DeliveryUnknown(
                f"no answer from Twilio after the request was sent ({exc.kind}); the message "
                "may have gone out: wait for its status callback instead of resending"
            ) from exc.__cause__
        except RequestInvalid as exc:
            raise TransportError(
                f"the request to Twilio failed ({exc.kind}); check the API base URL",
                retryable=False,
            ) from exc.__cause__

    async def _read(self, url: httpx.URL) -> Mapping[str, object]:
        try:
            async with self._in_flight:
                response = await self._client.request("GET", str(url), headers=self._auth)
        except HttpFailure as exc:  # a read: asking again is always safe
            raise TransportError(
                f"could not read Twilio's message list ({exc.kind})", retryable=True
            ) from exc.__cause__
        if not 200 <= response.status < 300:
            raise provider_error(response.status, response.content)
        try:
            page = json.loads(response.content)
        except ValueError as exc:
            raise TransportError("Twilio's message list was not JSON", retryable=True) from exc
        if not isinstance(page, Mapping):
            raise TransportError("Twilio's message list was not an object", retryable=True)
        return page


def _pacer(config: TwilioConfig, sleep: Sleep) -> Pacer | None:
    rate = config.rate_per_sender
    if rate is None:
        return None
    return pacer_for(rate, config.rate_limit_storage, sleep=sleep)


def _basic_auth(config: TwilioConfig) -> str:
    pair = f"{config.auth_user}:{config.auth_token.get_secret_value()}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
