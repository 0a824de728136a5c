"""The SMTP transport: email over aiosmtplib, with retries and connection reuse for batches."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosmtplib
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from walker_channels.email.config import SmtpConfig, SmtpSecurity
from walker_channels.email.mime import build_email, to_wire
from walker_channels.email.smtp_errors import translate_smtp_error
from walker_channels.emails import validate_email_address
from walker_channels.exceptions import MessageRejected, TransportError
from walker_channels.models import Channel, DeliveryStatus, OutboundMessage, SendResult
from walker_channels.ports import Clock


@dataclass(frozen=True, slots=True)
class _Envelope:
    sender: str
    recipient: str
    data: bytes
    message_id: str
    utf8: bool


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransportError) and exc.retryable


class SmtpTransport:
    """A :class:`~walker_channels.ports.MessageTransport` for email over SMTP.

    Each :meth:`send` opens its own connection, unless it runs inside :meth:`session`, where
    sends share one connection (SMTP is sequential, so they take turns). Temporary failures
    (4xx replies, dropped connections, timeouts) are retried ``config.retries`` times with
    the same Message-ID; permanent ones (5xx) raise at once. Errors are
    :class:`~walker_channels.exceptions.TransportError` or its
    :class:`~walker_channels.exceptions.ProviderError` (``code`` is the SMTP reply code).
    """

    def __init__(
        self,
        config: SmtpConfig,
        *,
        clock: Clock | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._tls_context = tls_context
        self._shared: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        self._sessions = 0

    @property
    def channel(self) -> Channel:
        """Always :attr:`Channel.EMAIL`."""
        return Channel.EMAIL

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[SmtpTransport]:
        """Keep one connection open for every send inside the block (sessions may nest)."""
        self._sessions += 1
        try:
            yield self
        finally:
            self._sessions -= 1
            if self._sessions == 0:
                async with self._lock:
                    await self._drop_shared(polite=True)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one email; returns its Message-ID as ``provider_message_id``."""
        return await self._deliver(self._prepare(message))

    async def send_many(
        self, messages: Sequence[OutboundMessage]
    ) -> list[SendResult | TransportError]:
        """Send a batch over one connection; each entry is the result or that email's error.

        Every message is checked before the first is sent, so bad input raises and sends none.
        """
        envelopes = [self._prepare(message) for message in messages]
        outcomes: list[SendResult | TransportError] = []
        async with self.session():
            for envelope in envelopes:
                try:
                    outcomes.append(await self._deliver(envelope))
                except TransportError as exc:
                    outcomes.append(exc)
        return outcomes

    async def aclose(self) -> None:
        """Close the shared connection, if one is open."""
        async with self._lock:
            await self._drop_shared(polite=True)

    def _prepare(self, message: OutboundMessage) -> _Envelope:
        if message.channel is not Channel.EMAIL:
            raise MessageRejected("the SMTP transport sends email only")
        recipient = validate_email_address(message.to.value)
        sender = self._config.sender
        if message.sender is not None:
            sender = validate_email_address(message.sender.value, what="the sender address")
        envelope_from = sender if message.sender is not None else self._config.sender_address
        mime = build_email(
            message,
            sender=sender,
            message_id_domain=self._message_id_domain(),
            now=self._now(),
        )
        utf8 = not (envelope_from + recipient).isascii()
        return _Envelope(
            sender=envelope_from,
            recipient=recipient,
            data=to_wire(mime, utf8=utf8),
            message_id=str(mime["Message-ID"]),
            utf8=utf8,
        )

    async def _deliver(self, envelope: _Envelope) -> SendResult:
        reply = ""
        async for attempt in self._retrying():
            with attempt:
                reply = await self._attempt(envelope)
        return SendResult(
            channel=Channel.EMAIL,
            provider_message_id=envelope.message_id,
            status=DeliveryStatus.SENT,
            raw={"smtp_reply": reply, "attempts": attempt.retry_state.attempt_number},
        )

    def _retrying(self) -> AsyncRetrying:
        backoff = self._config.retry_backoff
        return AsyncRetrying(
            stop=stop_after_attempt(self._config.retries + 1),
            wait=wait_exponential(multiplier=backoff, max=backoff * 16),
            retry=retry_if_exception(_is_retryable),
            reraise=True,
        )

    async def _attempt(self, envelope: _Envelope) -> str:
        if self._sessions:
            async with self._lock:
                return await self._over_shared(envelope)
        client = self._client()
        try:
            await client.connect()
            reply = await self._transact(client, envelope)
        except BaseException as exc:  # cancellation too: never leave the socket open
            client.close()
            if isinstance(exc, aiosmtplib.SMTPException | OSError):
                raise translate_smtp_error(exc) from exc
            raise
        await _quit(client)
        return reply

    async def _over_shared(self, envelope: _Envelope) -> str:
        client = await self._shared_client()
        try:
            reply = await self._transact(client, envelope)
        except BaseException as exc:  # cancelled mid-transaction: the state is unknown
            if not _still_usable(client, exc):
                self._close_shared()
            if isinstance(exc, aiosmtplib.SMTPException | OSError):
                raise translate_smtp_error(exc) from exc
            raise
        if self._sessions == 0:
            await self._drop_shared(polite=True)
        return reply

    async def _shared_client(self) -> aiosmtplib.SMTP:
        if self._shared is not None and self._shared.is_connected:
            return self._shared
        self._shared = self._client()
        try:
            await self._shared.connect()
        except BaseException as exc:
            self._close_shared()
            if isinstance(exc, aiosmtplib.SMTPException | OSError):
                raise translate_smtp_error(exc) from exc
            raise
        return self._shared

    async def _transact(self, client: aiosmtplib.SMTP, envelope: _Envelope) -> str:
        """Send one envelope; returns the server's reply to DATA (often a queue id)."""
        _, reply = await client.sendmail(
            envelope.sender,
            [envelope.recipient],
            envelope.data,
            mail_options=["SMTPUTF8"] if envelope.utf8 else None,
        )
        return reply

    async def _drop_shared(self, *, polite: bool) -> None:
        client = self._shared
        if polite and client is not None and client.is_connected:
            self._shared = None
            await _quit(client)
        else:
            self._close_shared()

    def _close_shared(self) -> None:
        client, self._shared = self._shared, None
        if client is not None:
            client.close()

    def _client(self) -> aiosmtplib.SMTP:
        config = self._config
        return aiosmtplib.SMTP(
            hostname=config.host,
            port=config.effective_port,
            username=config.username,
            password=None if config.password is None else config.password.get_secret_value(),
            timeout=config.timeout,
            use_tls=config.security is SmtpSecurity.TLS,
            start_tls=config.security is SmtpSecurity.STARTTLS,
            validate_certs=config.validate_certs,
            tls_context=self._tls_context,
        )

    def _message_id_domain(self) -> str:
        return self._config.message_id_domain or self._config.sender_address.rpartition("@")[2]

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)


def _still_usable(client: aiosmtplib.SMTP, exc: BaseException) -> bool:
    """Whether a shared connection can go on after ``exc``.

    After a refusal (a reply code) aiosmtplib has sent RSET, so the next message can use the
    same connection; 421 means the server is closing it, and anything else leaves its state
    unknown.
    """
    refused = isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused)
    closing = isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421
    return client.is_connected and refused and not closing


async def _quit(client: aiosmtplib.SMTP) -> None:
    # The message was accepted before QUIT; a server that drops the line instead of saying
    # goodbye has not lost it, so a failing QUIT only closes our side.
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
