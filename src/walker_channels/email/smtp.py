"""The SMTP transport: email over aiosmtplib, with retries and connection reuse for batches.

An address with a non-ASCII domain goes out as UTF-8 to a server that offers SMTPUTF8, and
with the domain in IDNA (punycode) to one that does not. A non-ASCII name before the ``@``
has no ASCII spelling: such an email is refused with
:class:`~walker_channels.exceptions.MessageRejected` when the server lacks SMTPUTF8.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

import aiosmtplib
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from walker_channels.email.config import SmtpConfig, SmtpSecurity
from walker_channels.email.mime import build_email, readdressed, to_wire
from walker_channels.email.smtp_errors import translate_smtp_error
from walker_channels.emails import validate_email_address
from walker_channels.exceptions import ConfigurationError, MessageRejected, TransportError
from walker_channels.models import Channel, DeliveryStatus, OutboundMessage, SendResult
from walker_channels.ports import Clock


@dataclass(frozen=True, slots=True)
class _Form:
    """One way to put an email on the wire: envelope addresses and message bytes."""

    sender: str
    recipient: str
    data: bytes
    utf8: bool


@dataclass(frozen=True, slots=True)
class _Envelope:
    """An email ready to send, in the forms a server with and without SMTPUTF8 can take."""

    message_id: str
    utf8: _Form | None
    """With the addresses as written; ``None`` when they are ASCII anyway."""
    ascii: _Form | None
    """With IDNA domains; ``None`` when a local part is not ASCII (only SMTPUTF8 carries it)."""

    def form(self, *, smtputf8: bool) -> _Form:
        """The form for a server that offers SMTPUTF8 or not; MessageRejected if neither fits."""
        if self.utf8 is not None and smtputf8:
            return self.utf8
        if self.ascii is None:
            raise MessageRejected(
                "an email address has non-ASCII characters before the @, which only an SMTP "
                "server offering SMTPUTF8 can carry, and this server does not offer it"
            )
        return self.ascii


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransportError) and exc.retryable


class SmtpTransport:
    """A :class:`~walker_channels.ports.MessageTransport` for email over SMTP.

    Each :meth:`send` opens its own connection, unless it runs inside :meth:`session`, where
    sends share one connection (SMTP is sequential, so they take turns). Temporary failures
    (4xx replies, dropped connections, timeouts) are retried ``config.retries`` times with
    the same Message-ID; permanent ones (5xx) raise at once. Errors are
    :class:`~walker_channels.exceptions.TransportError` or its
    :class:`~walker_channels.exceptions.ProviderError` (``code`` is the SMTP reply code), and
    :class:`~walker_channels.exceptions.MessageRejected` for an address the server cannot take.
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
            await self._check_sendable(envelopes)
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
        return _envelope(mime, envelope_from=envelope_from, recipient=recipient)

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
        form = envelope.form(smtputf8=await _offers_smtputf8(client))
        _, reply = await client.sendmail(
            form.sender,
            [form.recipient],
            form.data,
            mail_options=["SMTPUTF8"] if form.utf8 else None,
        )
        return reply

    async def _check_sendable(self, envelopes: Sequence[_Envelope]) -> None:
        """Refuse, before the first send, a batch with an email this server cannot take."""
        if all(envelope.ascii is not None for envelope in envelopes):
            return
        async with self._lock:
            try:
                smtputf8 = await _offers_smtputf8(await self._shared_client())
            except TransportError:
                return  # no connection now: each send reports its own failure
            except (aiosmtplib.SMTPException, OSError):
                self._close_shared()
                return
        for envelope in envelopes:
            envelope.form(smtputf8=smtputf8)

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
        domain = self._config.message_id_domain or self._config.sender_address.rpartition("@")[2]
        if domain.isascii():
            return domain
        ascii_address = _ascii_address(f"postmaster@{domain}")
        if ascii_address is None:
            raise ConfigurationError("the Message-ID domain is not a valid domain name")
        return ascii_address.rpartition("@")[2]

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)


def _envelope(mime: EmailMessage, *, envelope_from: str, recipient: str) -> _Envelope:
    """``mime`` and its envelope as written, and with IDNA domains where that is possible."""
    message_id = str(mime["Message-ID"])
    header_addresses = parseaddr(str(mime["From"]))[1] + parseaddr(str(mime["To"]))[1]
    # A display name needs no SMTPUTF8: the headers encode it (RFC 2047) either way.
    if (envelope_from + recipient + header_addresses).isascii():
        return _Envelope(message_id, None, _Form(envelope_from, recipient, to_wire(mime), False))
    utf8 = _Form(envelope_from, recipient, to_wire(mime, utf8=True), utf8=True)
    ascii_from, ascii_to = _ascii_address(envelope_from), _ascii_address(recipient)
    if ascii_from is None or ascii_to is None:
        return _Envelope(message_id, utf8, None)
    name = parseaddr(str(mime["From"]))[0]
    ascii_mime = readdressed(mime, sender=formataddr((name, ascii_from)), recipient=ascii_to)
    return _Envelope(message_id, utf8, _Form(ascii_from, ascii_to, to_wire(ascii_mime), False))


def _still_usable(client: aiosmtplib.SMTP, exc: BaseException) -> bool:
    """Whether a shared connection can go on after ``exc``.

    After a refusal (a reply code) aiosmtplib has sent RSET, so the next message can use the
    same connection; 421 means the server is closing it, and anything else leaves its state
    unknown. An email we refused ourselves never reached MAIL FROM.
    """
    if isinstance(exc, MessageRejected):
        return client.is_connected
    refused = isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused)
    closing = isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421
    return client.is_connected and refused and not closing


async def _offers_smtputf8(client: aiosmtplib.SMTP) -> bool:
    """Whether the server offers SMTPUTF8 (greeting it first, as sendmail would)."""
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()  # no ESMTP, so no SMTPUTF8 either
    return client.supports_extension("smtputf8")


def _ascii_address(address: str) -> str | None:
    """``address`` with its domain in IDNA (punycode); None if its local part is not ASCII.

    email-validator converts the domain (IDNA 2008 with UTS #46), as it did when it checked
    the address; Python's own ``idna`` codec is IDNA 2003, which turns ``ß`` into ``ss``.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(address, check_deliverability=False).ascii_email
    except EmailNotValidError:
        return None


async def _quit(client: aiosmtplib.SMTP) -> None:
    # The message was accepted before QUIT; a server that drops the line instead of saying
    # goodbye has not lost it, so a failing QUIT only closes our side.
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
