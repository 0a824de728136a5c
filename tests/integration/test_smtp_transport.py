"""The SMTP transport against a real SMTP server (aiosmtpd) on 127.0.0.1.

aiosmtpd runs in its own thread. Two of its quirks shape the fixtures: it cannot take port 0
(it connects to itself to check it started), so a free port is found first; and it hides AUTH
on plain connections unless ``auth_require_tls=False``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from walker_channels.app import Settings, email_services
from walker_channels.email import (
    ConsoleEmailTransport,
    SmtpConfig,
    SmtpSecurity,
    SmtpTransport,
)
from walker_channels.exceptions import (
    ConfigurationError,
    InvalidEmailAddress,
    ProviderError,
    TransportError,
)
from walker_channels.models import (
    Address,
    Channel,
    DeliveryStatus,
    EmailAttachment,
    EmailContent,
    OutboundEvent,
    OutboundMessage,
)
from walker_channels.privacy import pseudonymize
from walker_channels.services import OutboundSender, ServiceConfig
from walker_channels.services.email import (
    DailyBriefRequest,
    DailyBriefService,
    EmailSendRequest,
    EmailService,
    StaticBriefData,
    TemplateCatalog,
)
from walker_channels.testing import (
    FixedClock,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    InMemoryStores,
)
from walker_channels.testing.contracts import MessageTransportContract

pytestmark = pytest.mark.anyio

SENT_AT = datetime(2026, 3, 29, 6, 30, tzinfo=UTC)
USER, PASSWORD = "mailer", "s3cret-pass"
KEY = "pseudonym-secret"
SMTP_VARIABLES = (
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMTP_SECURITY",
    "SMTP_TIMEOUT",
    "SMTP_RETRIES",
)


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and fails on cue.

    ``script`` holds the answers to the next DATA commands: an SMTP reply such as
    ``"451 try later"``, or ``"drop"`` to cut the connection instead of answering.
    """

    def __init__(self) -> None:
        self.accepted: list[tuple[str, list[str], bytes, Any]] = []
        self.data_commands = 0
        self.script: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        action = self.script.pop(0) if self.script else "250 Message accepted for delivery"
        if action == "drop":
            server.transport.abort()
            return "250 never seen"
        if action.startswith("250"):
            self.accepted.append(
                (envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.peer)
            )
        return action

    def message(self, index: int = -1) -> EmailMessage:
        """The accepted message at ``index``, parsed."""
        parsed = email.message_from_bytes(self.accepted[index][2], policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(handler: Mailbox, **smtp_options: Any) -> Iterator[Controller]:
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), ready_timeout=5, **smtp_options
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def server(mailbox: Mailbox) -> Iterator[Controller]:
    yield from serve(mailbox)


def config_for(port: int, **changes: Any) -> SmtpConfig:
    fields: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "Walker Briefs <brief@example.com>",
        "security": SmtpSecurity.NONE,
        "timeout": 5,
        "retry_backoff": 0,
    }
    return SmtpConfig.model_validate({**fields, **changes})


def transport_for(server: Controller, **changes: Any) -> SmtpTransport:
    return SmtpTransport(config_for(server.port, **changes), clock=FixedClock(SENT_AT))


def email_to(address: str = "ann@example.org", **content: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "subject": "Your daily brief",
        "text": "Plain text body",
        "html": "<p>HTML body</p>",
    }
    return OutboundMessage(
        channel=Channel.EMAIL,
        to=Address(channel=Channel.EMAIL, value=address),
        email=EmailContent(**{**fields, **content}),
    )


class TestSmtpTransportContract(MessageTransportContract):
    @pytest.fixture
    def transport(self, server: Controller) -> SmtpTransport:
        return transport_for(server)

    @pytest.fixture
    def message(self) -> OutboundMessage:
        return email_to()


class TestConsoleTransportContract(MessageTransportContract):
    @pytest.fixture
    def transport(self) -> ConsoleEmailTransport:
        return ConsoleEmailTransport()

    @pytest.fixture
    def message(self) -> OutboundMessage:
        return email_to()


async def test_an_email_arrives_as_multipart_alternative_text_then_html(
    server: Controller, mailbox: Mailbox
) -> None:
    await transport_for(server).send(email_to())

    received = mailbox.message()
    assert received.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in received.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert received.get_body(("plain",)).get_content().strip() == "Plain text body"  # type: ignore[union-attr]
    assert received.get_body(("html",)).get_content().strip() == "<p>HTML body</p>"  # type: ignore[union-attr]


async def test_the_headers_and_envelope_are_right(server: Controller, mailbox: Mailbox) -> None:
    result = await transport_for(server).send(
        email_to(list_unsubscribe_url="https://app.example.com/unsubscribe?u=42")
    )

    received = mailbox.message()
    mail_from, rcpt_tos, _, _ = mailbox.accepted[-1]
    assert (mail_from, rcpt_tos) == ("brief@example.com", ["ann@example.org"])
    assert received["From"] == "Walker Briefs <brief@example.com>"
    assert received["To"] == "ann@example.org"
    assert received["Subject"] == "Your daily brief"
    assert parsedate_to_datetime(received["Date"]) == SENT_AT
    assert received["Message-ID"] == result.provider_message_id
    assert received["Message-ID"].endswith("@example.com>")
    assert received["List-Unsubscribe"] == "<https://app.example.com/unsubscribe?u=42>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert result.status is DeliveryStatus.SENT


async def test_a_mailto_unsubscribe_gets_no_one_click_header(
    server: Controller, mailbox: Mailbox
) -> None:
    await transport_for(server).send(
        email_to(list_unsubscribe_url="mailto:unsubscribe@example.com")
    )

    received = mailbox.message()
    assert received["List-Unsubscribe"] == "<mailto:unsubscribe@example.com>"
    assert received["List-Unsubscribe-Post"] is None


async def test_a_long_unsubscribe_header_stays_on_one_line(
    server: Controller, mailbox: Mailbox
) -> None:
    url = "https://app.example.com/unsubscribe?token=" + "a1b2c3d4" * 20
    await transport_for(server).send(email_to(list_unsubscribe_url=url))

    raw = mailbox.accepted[-1][2]
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in raw


async def test_a_subject_cannot_inject_headers(server: Controller, mailbox: Mailbox) -> None:
    await transport_for(server).send(email_to(subject="Hi\r\nBcc: victim@example.net"))

    received = mailbox.message()
    assert received["Bcc"] is None
    assert mailbox.accepted[-1][1] == ["ann@example.org"]


async def test_attachments_follow_the_alternative_part(
    server: Controller, mailbox: Mailbox
) -> None:
    report = EmailAttachment(filename="report.csv", content_type="text/csv", data=b"a,b\n1,2\n")
    await transport_for(server).send(email_to(attachments=(report,)))

    received = mailbox.message()
    assert received.get_content_type() == "multipart/mixed"
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content() == "a,b\n1,2\n"
    assert received.get_body(("plain",)) is not None


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_login_works_and_a_wrong_password_is_permanent(mailbox: Mailbox) -> None:
    logins: list[tuple[str, bool]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data == (USER.encode(), PASSWORD.encode())
        logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends 535

    for server in serve(
        mailbox, authenticator=authenticator, auth_required=True, auth_require_tls=False
    ):
        await transport_for(server, username=USER, password=PASSWORD).send(email_to())
        with pytest.raises(ProviderError) as refused:
            await transport_for(server, username=USER, password="wrong", retries=3).send(email_to())

    assert len(mailbox.accepted) == 1
    (_, first), *refusals = logins
    assert first is True
    # aiosmtplib tries each mechanism the server offers once; nothing is retried after that.
    assert refusals
    assert not any(ok for _, ok in refusals)
    assert len({mechanism for mechanism, _ in refusals}) == len(refusals)
    assert (refused.value.code, refused.value.retryable) == ("535", False)
    assert "wrong" not in str(refused.value)


async def test_a_temporary_failure_is_retried(server: Controller, mailbox: Mailbox) -> None:
    mailbox.script = ["451 Requested action aborted: try again later"]

    result = await transport_for(server, retries=2).send(email_to())

    assert mailbox.data_commands == 2
    assert len(mailbox.accepted) == 1
    assert result.raw["attempts"] == 2
    assert mailbox.message()["Message-ID"] == result.provider_message_id


async def test_a_permanent_failure_is_not_retried(server: Controller, mailbox: Mailbox) -> None:
    mailbox.script = ["550 Mailbox unavailable"]

    with pytest.raises(ProviderError) as failure:
        await transport_for(server, retries=3).send(email_to())

    assert mailbox.data_commands == 1
    assert (failure.value.code, failure.value.retryable) == ("550", False)
    assert "ann@example.org" not in str(failure.value)


async def test_a_dropped_connection_is_retried(server: Controller, mailbox: Mailbox) -> None:
    mailbox.script = ["drop"]

    await transport_for(server, retries=1).send(email_to())

    assert mailbox.data_commands == 2
    assert len(mailbox.accepted) == 1


async def test_retries_stop_after_the_configured_number(
    server: Controller, mailbox: Mailbox
) -> None:
    mailbox.script = ["421 Service not available"] * 5

    with pytest.raises(ProviderError) as failure:
        await transport_for(server, retries=2).send(email_to())

    assert mailbox.data_commands == 3
    assert (failure.value.code, failure.value.retryable) == ("421", True)


async def test_a_refused_connection_is_a_retryable_transport_error() -> None:
    transport = SmtpTransport(config_for(free_port(), retries=0))

    with pytest.raises(TransportError) as failure:
        await transport.send(email_to())

    assert failure.value.retryable is True


async def test_sends_in_a_session_share_one_connection(
    server: Controller, mailbox: Mailbox
) -> None:
    transport = transport_for(server)
    async with transport.session():
        for _ in range(3):
            await transport.send(email_to())
    await transport.send(email_to())
    await transport.send(email_to())

    peers = [peer for _, _, _, peer in mailbox.accepted]
    assert len(set(peers[:3])) == 1
    assert len(set(peers)) == 3


async def test_a_session_reconnects_after_the_server_drops_it(
    server: Controller, mailbox: Mailbox
) -> None:
    mailbox.script = ["250 ok", "drop"]
    transport = transport_for(server, retries=1)

    async with transport.session():
        for _ in range(3):
            await transport.send(email_to())

    peers = [peer for _, _, _, peer in mailbox.accepted]
    assert mailbox.data_commands == 4
    assert len(peers) == 3
    assert peers[0] != peers[1] == peers[2]


async def test_a_batch_reports_each_outcome_and_goes_on_after_a_failure(
    server: Controller, mailbox: Mailbox
) -> None:
    mailbox.script = ["250 ok", "550 no such user", "250 ok"]

    outcomes = await transport_for(server).send_many([email_to(), email_to(), email_to()])

    assert [type(outcome).__name__ for outcome in outcomes] == [
        "SendResult",
        "ProviderError",
        "SendResult",
    ]
    assert len({peer for _, _, _, peer in mailbox.accepted}) == 1


async def test_a_batch_with_an_invalid_address_sends_nothing(
    server: Controller, mailbox: Mailbox
) -> None:
    with pytest.raises(InvalidEmailAddress):
        await transport_for(server).send_many([email_to(), email_to("not-an-address")])

    assert mailbox.data_commands == 0


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


def tls_contexts(ca: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return server_context, client_context


async def test_starttls_upgrades_the_connection(
    mailbox: Mailbox, certificate_authority: trustme.CA
) -> None:
    server_context, client_context = tls_contexts(certificate_authority)
    for server in serve(mailbox, tls_context=server_context, require_starttls=True):
        transport = SmtpTransport(
            config_for(server.port, security=SmtpSecurity.STARTTLS), tls_context=client_context
        )
        await transport.send(email_to())

    assert len(mailbox.accepted) == 1


async def test_implicit_tls_connects_encrypted(
    mailbox: Mailbox, certificate_authority: trustme.CA
) -> None:
    server_context, client_context = tls_contexts(certificate_authority)
    for server in serve(mailbox, ssl_context=server_context):
        transport = SmtpTransport(
            config_for(server.port, security=SmtpSecurity.TLS), tls_context=client_context
        )
        await transport.send(email_to())

    assert len(mailbox.accepted) == 1


async def test_starttls_is_refused_when_the_server_does_not_offer_it(server: Controller) -> None:
    transport = transport_for(server, security=SmtpSecurity.STARTTLS, retries=3)

    with pytest.raises(TransportError) as failure:
        await transport.send(email_to())

    assert failure.value.retryable is False


@pytest.fixture
def no_smtp_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the process environment too: only the test's own SMTP_* count."""
    for name in SMTP_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def env_file(directory: Path, variables: dict[str, str]) -> Path:
    """A host application's .env: walker-channels' variables among unrelated ones."""
    path = directory / ".env"
    unrelated = {"DJANGO_SECRET": "x", "DEBUG": "1", "DATABASE_URL": "postgres://app@db/app"}
    lines = [f"{name}={value}" for name, value in {**unrelated, **variables}.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.usefixtures("no_smtp_environment")
def test_the_config_comes_from_smtp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {
        "SMTP_HOST": "smtp.example.com",
        "SMTP_USERNAME": USER,
        "SMTP_PASSWORD": PASSWORD,
        "SMTP_FROM": "Walker <brief@example.com>",
        "SMTP_SECURITY": "tls",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    settings = Settings()
    config = settings.smtp_config()

    assert config is not None
    assert (config.effective_port, config.sender_address) == (465, "brief@example.com")
    assert (config.host, config.username, config.security) == (
        "smtp.example.com",
        USER,
        SmtpSecurity.TLS,
    )
    assert config.password is not None
    assert config.password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(config)
    assert PASSWORD not in repr(settings)


@pytest.mark.usefixtures("no_smtp_environment")
async def test_timeout_and_retries_from_a_dotenv_file_reach_the_transport(
    tmp_path: Path, server: Controller, mailbox: Mailbox
) -> None:
    path = env_file(
        tmp_path,
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(server.port),
            "SMTP_FROM": "Walker Briefs <brief@example.com>",
            "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": "7.5",
            "SMTP_RETRIES": "4",
        },
    )

    config = Settings(_env_file=path).smtp_config()

    assert config is not None
    assert (config.timeout, config.retries) == (7.5, 4)
    assert (config.host, config.effective_port) == ("127.0.0.1", server.port)
    assert config.security is SmtpSecurity.NONE
    result = await SmtpTransport(config, clock=FixedClock(SENT_AT)).send(email_to())
    assert len(mailbox.accepted) == 1
    assert mailbox.message()["Message-ID"] == result.provider_message_id


@pytest.mark.usefixtures("no_smtp_environment")
def test_without_a_dotenv_file_the_smtp_defaults_apply(tmp_path: Path) -> None:
    path = env_file(tmp_path, {"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "a@example.com"})

    config = Settings(_env_file=path).smtp_config()

    assert config is not None
    assert (config.timeout, config.retries, config.effective_port) == (30.0, 2, 587)
    assert Settings().smtp_config() is None  # the file is read only when named


@pytest.mark.usefixtures("no_smtp_environment")
@pytest.mark.parametrize(
    "port",
    [
        "not-a-port",
        "70000",
    ],
)
def test_an_invalid_smtp_port_names_the_variables_without_the_value(
    tmp_path: Path, port: str
) -> None:
    path = env_file(
        tmp_path,
        {"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "a@example.com", "SMTP_PORT": port},
    )

    with pytest.raises(ConfigurationError, match=r"SMTP_(\*|PORT)") as failure:
        Settings(_env_file=path).smtp_config()

    assert port not in str(failure.value)


@pytest.mark.usefixtures("no_smtp_environment")
async def test_without_smtp_host_there_is_no_smtp_config_and_the_jobs_say_so() -> None:
    settings = Settings(smtp_from="brief@example.com", walker_pseudonym_key=KEY)

    assert settings.smtp_config() is None
    with pytest.raises(ConfigurationError, match="SMTP_HOST"):
        async with email_services(settings, stores=InMemoryStores()):
            pass


@pytest.mark.usefixtures("no_smtp_environment")
@pytest.mark.parametrize(
    ("environ", "names"),
    [
        pytest.param(
            {"SMTP_HOST": "h", "SMTP_FROM": "not an address"},
            "SMTP_FROM",
            id="from",
        ),
        pytest.param(
            {"SMTP_HOST": "h", "SMTP_FROM": "a@example.com", "SMTP_SECURITY": "ssl"},
            "SMTP_SECURITY",
            id="security",
        ),
        pytest.param(
            {"SMTP_HOST": "h", "SMTP_FROM": "a@example.com", "SMTP_PASSWORD": PASSWORD},
            "password",
            id="password-without-username",
        ),
    ],
)
def test_bad_smtp_settings_name_the_variable_and_hide_the_password(
    tmp_path: Path, environ: dict[str, str], names: str
) -> None:
    path = env_file(tmp_path, environ)

    with pytest.raises(ConfigurationError, match=names) as failure:
        Settings(_env_file=path).smtp_config()
    assert PASSWORD not in str(failure.value)


def sender_for(transport: SmtpTransport, events: InMemoryEventStore) -> OutboundSender:
    return OutboundSender(
        transports={Channel.EMAIL: transport},
        ledger=InMemoryOutboundLedger(events),
        clock=FixedClock(SENT_AT),
        config=ServiceConfig(pseudonym_key=KEY),
    )


async def test_a_custom_email_retried_with_its_key_reaches_the_server_once(
    server: Controller, mailbox: Mailbox
) -> None:
    events = InMemoryEventStore()
    service = EmailService(
        sender=sender_for(transport_for(server), events), templates=TemplateCatalog()
    )
    request = EmailSendRequest(
        tenant_id="t1",
        recipient_email="ann@example.org",
        subject="Your invoice",
        body="The invoice is attached.",
        idempotency_key="invoice-2026-03",
    )

    first = await service.send(request)
    second = await service.send(request)

    assert len(mailbox.accepted) == 1
    assert mailbox.data_commands == 1
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.status is DeliveryStatus.SENT
    assert mailbox.message()["Message-ID"] == first.provider_message_id
    assert second.provider_message_id == first.provider_message_id
    assert mailbox.message()["Subject"] == "Your invoice"
    (event,) = events.events
    assert isinstance(event, OutboundEvent)
    assert event.text == "Your invoice"
    assert event.participant == pseudonymize("ann@example.org", KEY)
    assert event.data == {"purpose": "custom", "template": "custom_message"}
    assert "invoice is attached" not in event.model_dump_json()


async def test_a_brief_rerun_for_the_same_day_reaches_the_server_once(
    server: Controller, mailbox: Mailbox
) -> None:
    events = InMemoryEventStore()
    briefs = DailyBriefService(
        sender=sender_for(transport_for(server), events),
        templates=TemplateCatalog(),
        data=StaticBriefData(),
        agent=None,
        clock=FixedClock(SENT_AT),
    )
    request = DailyBriefRequest(
        user_id="u1",
        tenant_id="t1",
        recipient_email="ann@example.org",
        include_recommendations=False,
    )

    first = await briefs.send(request)
    rerun = await briefs.send(request)
    next_day = await briefs.send(request, day=date(2026, 3, 30))

    assert len(mailbox.accepted) == 2
    assert (first.duplicate, rerun.duplicate, next_day.duplicate) == (False, True, False)
    assert mailbox.message(0)["Message-ID"] == first.provider_message_id
    assert mailbox.message(0)["Subject"] == "Your daily brief for 2026-03-29"
    assert mailbox.message(1)["Subject"] == "Your daily brief for 2026-03-30"
    sent = [event for event in events.events if isinstance(event, OutboundEvent)]
    assert sent == events.events
    assert [event.text for event in sent] == [
        "Your daily brief for 2026-03-29",
        "Your daily brief for 2026-03-30",
    ]
    assert all(event.data["purpose"] == "daily_brief" for event in sent)
