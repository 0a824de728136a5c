"""Sending on Telegram with the Bot API (``sendMessage``, ``sendPhoto``, ``sendDocument``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import TracebackType

import anyio
import httpx

from walker_channels.exceptions import DeliveryUnknown, TransportError
from walker_channels.models import Channel, OutboundMessage, SendResult
from walker_channels.retrying import RetryNow, RetryPolicy, Sleep
from walker_channels.telegram.api import BotApi
from walker_channels.telegram.config import TELEGRAM, TelegramConfig
from walker_channels.telegram.errors import answer_document, failure
from walker_channels.telegram.wire import MAX_TEXT_CHARS, outbound_call, send_result


class TelegramTransport:
    """A :class:`~walker_channels.ports.MessageTransport` (and
    :class:`~walker_channels.ports.TextLimited`) for one bot.

    It holds a connection pool: close it with :meth:`aclose` (or ``async with``). ``pool``
    replaces the pool (the caller closes that one); ``sleep`` the waits between attempts.
    At most ``max_in_flight`` requests are in flight at once.
    """

    def __init__(
        self,
        config: TelegramConfig,
        *,
        pool: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._config = config
        self._api = BotApi(config, transport=pool)
        self._in_flight = anyio.Semaphore(config.max_in_flight)
        # Telegram refuses every send before its retry_after: that wait is binding.
        self._retry = RetryPolicy(
            config.retry, sleep=sleep or anyio.sleep, provider="Telegram", binding_advice=True
        )

    @property
    def channel(self) -> Channel:
        """The channel this transport sends on: Telegram."""
        return TELEGRAM

    @property
    def max_text_length(self) -> int:
        """``sendMessage``'s limit: longer replies are sent in parts."""
        return MAX_TEXT_CHARS

    @property
    def config(self) -> TelegramConfig:
        """The settings this transport was built with."""
        return self._config

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message``; a 429 is sent again after Telegram's ``retry_after``, a 5xx or
        a failure to connect after a backoff, within the retry settings.

        Raises :class:`~walker_channels.exceptions.MessageRejected` before sending what
        Telegram would refuse, :class:`~walker_channels.exceptions.ProviderError` with a code
        from :data:`~walker_channels.telegram.TELEGRAM_ERRORS` when Telegram refuses (e.g.
        ``bot_blocked``), :class:`~walker_channels.exceptions.DeliveryUnknown` when the
        request may have reached Telegram but no answer came (never resent), and
        :class:`~walker_channels.exceptions.TransportError` when Telegram cannot be reached.
        """
        method, payload = outbound_call(message, self._config)
        answer = await self._retry.call(partial(self._attempt, method, payload))
        return send_result(answer)

    async def aclose(self) -> None:
        """Close the connection pool, if the transport made it."""
        await self._api.aclose()

    async def __aenter__(self) -> TelegramTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _attempt(self, method: str, payload: Mapping[str, object]) -> Mapping[str, object]:
        try:
            async with self._in_flight:
                answer = await self._api.call(method, payload)
        except TransportError as exc:
            if exc.retryable:  # not sent: nothing reached Telegram
                raise RetryNow(exc) from None
            raise
        document = answer_document(answer.body)
        if 200 <= answer.status < 300 and document.get("ok") is not False:
            if document.get("ok") is True:
                return document
            # A success that is no Bot API answer (a proxy's page?): it may have been sent.
            raise DeliveryUnknown(
                f"Telegram answered {method} with HTTP {answer.status} but no Bot API result; "
                "the message may have gone out: do not resend it blindly"
            )
        refused = failure(answer.status, answer.body)
        if refused.error.retryable:  # a 429 or a 5xx
            raise RetryNow(refused.error, retry_after=refused.retry_after)
        raise refused.error
