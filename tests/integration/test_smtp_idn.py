"""Internationalised addresses over SMTP, against a real server (aiosmtpd) with and without
SMTPUTF8: a non-ASCII domain goes out in IDNA (punycode) when the server cannot take UTF-8,
and a non-ASCII name before the @, which has no ASCII spelling, is refused before sending.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from walker_channels.email import SmtpConfig, SmtpSecurity, SmtpTransport
from walker_channels.exceptions import MessageRejected
from walker_channels.models import Address, Channel, EmailContent, OutboundMessage
from walker_channels.testing import FixedClock

pytestmark = pytest.mark.anyio

SENDER = "Wälker Briefs <brief@bücher.example>"
IDN_RECIPIENT = "anna@münchen.example"
UTF8_LOCAL_PART = "jörg@münchen.example"


@dataclass(frozen=True)
class Received:
    """One email the server took: envelope, whether it came with SMTPUTF8, and the bytes."""

    mail_from: str
    rcpt_tos: list[str]
    smtputf8: bool
    data: bytes
    peer: Any

    def headers(self) -> EmailMessage:
        # The bytes parser reads headers as ASCII; SMTPUTF8 headers are UTF-8 (RFC 6532).
        text = self.header_bytes().decode("utf-8") + "\r\n\r\n"
        parsed = email.message_from_string(text, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return str(parsed.get_content()).strip()

    def header_bytes(self) -> bytes:
        return self.data.split(b"\r\n\r\n", 1)[0]


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.smtp_utf8,
                envelope.original_content,
                session.peer,
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    # aiosmtpd cannot take port 0: it connects to itself to check that it started.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture(params=[False, True], ids=["without-smtputf8", "with-smtputf8"])
def smtputf8(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def server(mailbox: Mailbox, smtputf8: bool) -> Iterator[Controller]:
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        ready_timeout=5,
        enable_SMTPUTF8=smtputf8,
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def transport(server: Controller) -> SmtpTransport:
    config = SmtpConfig(
        host="127.0.0.1",
        port=server.port,
        sender=SENDER,
        security=SmtpSecurity.NONE,
        timeout=5,
        retry_backoff=0,
    )
    return SmtpTransport(config, clock=FixedClock(datetime(2026, 3, 29, 6, 30, tzinfo=UTC)))


def email_to(address: str) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.EMAIL,
        to=Address(channel=Channel.EMAIL, value=address),
        email=EmailContent(subject="Dein Überblick", text="Grüße aus München"),
    )


async def test_an_idn_domain_is_sent_in_punycode_exactly_when_the_server_lacks_smtputf8(
    transport: SmtpTransport, mailbox: Mailbox, smtputf8: bool
) -> None:
    result = await transport.send(email_to(IDN_RECIPIENT))

    (received,) = mailbox.received
    message = received.headers()
    assert message["Message-ID"] == result.provider_message_id
    assert message["Message-ID"].endswith("@xn--bcher-kva.example>")
    assert message["Subject"] == "Dein Überblick"
    assert message["From"].addresses[0].display_name == "Wälker Briefs"
    assert received.text() == "Grüße aus München"
    if smtputf8:
        assert received.smtputf8
        assert (received.mail_from, received.rcpt_tos) == ("brief@bücher.example", [IDN_RECIPIENT])
        assert message["To"] == IDN_RECIPIENT
    else:
        assert not received.smtputf8
        assert received.mail_from == "brief@xn--bcher-kva.example"
        assert received.rcpt_tos == ["anna@xn--mnchen-3ya.example"]
        assert message["To"] == "anna@xn--mnchen-3ya.example"
        assert message["From"].addresses[0].addr_spec == "brief@xn--bcher-kva.example"
        assert received.header_bytes().isascii()


async def test_a_domain_is_converted_by_idna_2008_so_sharp_s_stays_itself(
    transport: SmtpTransport, mailbox: Mailbox, smtputf8: bool
) -> None:
    await transport.send(email_to("kim@faß.de"))

    expected = "kim@faß.de" if smtputf8 else "kim@xn--fa-hia.de"  # IDNA 2003: fass.de
    assert mailbox.received[0].rcpt_tos == [expected]


async def test_an_address_given_in_punycode_needs_no_smtputf8(
    transport: SmtpTransport, mailbox: Mailbox, smtputf8: bool
) -> None:
    await transport.send(email_to("anna@xn--mnchen-3ya.example"))

    expected = IDN_RECIPIENT if smtputf8 else "anna@xn--mnchen-3ya.example"
    assert mailbox.received[0].rcpt_tos == [expected]


async def test_a_non_ascii_local_part_needs_smtputf8_and_is_refused_without_it(
    transport: SmtpTransport, mailbox: Mailbox, smtputf8: bool
) -> None:
    if smtputf8:
        await transport.send(email_to(UTF8_LOCAL_PART))
        assert mailbox.received[0].rcpt_tos == [UTF8_LOCAL_PART]
        return
    with pytest.raises(MessageRejected, match="SMTPUTF8") as refused:
        await transport.send(email_to(UTF8_LOCAL_PART))
    assert "jörg" not in str(refused.value)
    assert "münchen" not in str(refused.value)
    assert mailbox.received == []


@pytest.mark.parametrize("smtputf8", [False], ids=["without-smtputf8"])
async def test_a_batch_with_an_unsendable_local_part_sends_nothing(
    transport: SmtpTransport, mailbox: Mailbox
) -> None:
    batch = [email_to(IDN_RECIPIENT), email_to(UTF8_LOCAL_PART), email_to("ann@example.org")]
    with pytest.raises(MessageRejected):
        await transport.send_many(batch)
    assert mailbox.received == []


@pytest.mark.parametrize("smtputf8", [False], ids=["without-smtputf8"])
async def test_a_refused_email_leaves_a_session_connection_usable(
    transport: SmtpTransport, mailbox: Mailbox
) -> None:
    async with transport.session():
        await transport.send(email_to(IDN_RECIPIENT))
        with pytest.raises(MessageRejected):
            await transport.send(email_to(UTF8_LOCAL_PART))
        await transport.send(email_to("ann@example.org"))

    assert len(mailbox.received) == 2
    assert mailbox.received[0].peer == mailbox.received[1].peer
