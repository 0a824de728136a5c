"""A development transport: builds each email as SMTP would, keeps it, prints a redacted line."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TextIO

from walker_channels.email.mime import build_email
from walker_channels.emails import redact_email, validate_email_address
from walker_channels.exceptions import MessageRejected
from walker_channels.models import Channel, DeliveryStatus, OutboundMessage, SendResult
from walker_channels.ports import Clock
from walker_channels.privacy import preview


class ConsoleEmailTransport:
    """A :class:`~walker_channels.ports.MessageTransport` for email that sends nothing.

    Every message is built into the same MIME message the SMTP transport would send and kept
    in :attr:`outbox`; a one-line summary (recipient domain, subject preview, sizes) goes to
    ``stream`` (standard output when ``None``). Bodies and addresses are never printed.
    """

    def __init__(
        self,
        *,
        sender: str = "walker-channels <noreply@localhost.localdomain>",
        stream: TextIO | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._sender = sender
        self._stream = stream
        self._clock = clock
        self.outbox: list[EmailMessage] = []

    @property
    def channel(self) -> Channel:
        """Always :attr:`Channel.EMAIL`."""
        return Channel.EMAIL

    async def send(self, message: OutboundMessage) -> SendResult:
        """Build, keep and summarise ``message``; returns its Message-ID."""
        if message.channel is not Channel.EMAIL or message.email is None:
            raise MessageRejected("the console email transport sends email only")
        validate_email_address(message.to.value)
        mime = build_email(
            message,
            sender=self._sender,
            message_id_domain=self._sender.rpartition("@")[2].rstrip(">") or "localhost",
            now=self._clock.now() if self._clock is not None else datetime.now(UTC),
        )
        self.outbox.append(mime)
        content = message.email
        print(
            f"[email] to={redact_email(message.to.value)} "
            f"subject={preview(content.subject, 60)!r} text={len(content.text)} chars "
            f"html={'yes' if content.html else 'no'} attachments={len(content.attachments)} "
            f"id={mime['Message-ID']}",
            file=self._stream or sys.stdout,
        )
        return SendResult(
            channel=Channel.EMAIL,
            provider_message_id=str(mime["Message-ID"]),
            status=DeliveryStatus.SENT,
        )
