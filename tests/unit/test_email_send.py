"""Custom emails: a template with data, or a subject and body, to a validated recipient."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

import walker_channels.email
from walker_channels.email import ConsoleEmailTransport
from walker_channels.exceptions import ConfigurationError, InvalidEmailAddress, TransportError
from walker_channels.models import (
    Channel,
    DeliveryStatus,
    OutboundEvent,
    OutboundFailedEvent,
    OutboundState,
)
from walker_channels.privacy import pseudonymize
from walker_channels.services import OutboundSender, SendPurpose, ServiceConfig
from walker_channels.services.email import (
    EmailSendRequest,
    EmailService,
    TemplateCatalog,
    UnknownTemplate,
)
from walker_channels.services.keys import outbound_event_key
from walker_channels.testing import (
    FixedClock,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

KEY = "pseudonym-secret"
NOW = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)
RECIPIENT = "bob@example.org"


def sender_on(
    transport: RecordingTransport | ConsoleEmailTransport,
    events: InMemoryEventStore,
    ledger: InMemoryOutboundLedger | None = None,
) -> OutboundSender:
    return OutboundSender(
        transports={Channel.EMAIL: transport},
        ledger=ledger if ledger is not None else InMemoryOutboundLedger(events),
        clock=FixedClock(NOW),
        config=ServiceConfig(pseudonym_key=KEY),
    )


def service_on(
    transport: RecordingTransport | ConsoleEmailTransport,
    ledger: InMemoryOutboundLedger | None = None,
) -> tuple[EmailService, InMemoryEventStore]:
    events = InMemoryEventStore()
    sender = sender_on(transport, events, ledger)
    return EmailService(sender=sender, templates=TemplateCatalog()), events


async def test_a_subject_and_body_go_out_in_the_custom_message_layout() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    service, events = service_on(transport)

    receipt = await service.send(
        EmailSendRequest(
            tenant_id="t1", recipient_email=RECIPIENT, subject="Hello", body="Line <one>"
        )
    )

    (message,) = transport.sent
    assert message.email is not None
    assert message.email.subject == "Hello"
    assert "Line <one>" in message.email.text
    assert message.email.html is not None
    assert "Line &lt;one&gt;" in message.email.html
    assert receipt.template_name == "custom_message"
    assert (receipt.status, receipt.duplicate) == (DeliveryStatus.SENT, False)
    assert receipt.participant == pseudonymize(RECIPIENT, KEY)
    (event,) = events.events
    assert isinstance(event, OutboundEvent)
    assert (event.tenant_id, event.participant) == ("t1", pseudonymize(RECIPIENT, KEY))
    assert event.data == {"purpose": "custom", "template": "custom_message"}
    assert event.text == "Hello"
    assert event.provider_message_id == receipt.provider_message_id
    assert "Line" not in event.model_dump_json()
    assert RECIPIENT not in event.model_dump_json()


async def test_a_template_is_rendered_with_the_data_given() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    service, _ = service_on(transport)

    await service.send(
        EmailSendRequest(
            tenant_id="t1",
            recipient_email=RECIPIENT,
            template_name="alert",
            data={"title": "Queue growing", "message": "12 drafts wait", "severity": "warning"},
        )
    )

    (message,) = transport.sent
    assert message.email is not None
    assert message.email.subject == "[WARNING] Queue growing"


async def test_the_body_is_data_never_a_template() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    service, _ = service_on(transport)

    await service.send(
        EmailSendRequest(tenant_id="t1", recipient_email=RECIPIENT, subject="s", body="{{ 7 * 7 }}")
    )

    assert transport.sent[0].email is not None
    assert "{{ 7 * 7 }}" in transport.sent[0].email.text


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "s"},
        {"body": "b"},
        {"template_name": "alert", "subject": "s", "body": "b"},
        {"subject": "s", "body": "b", "data": {"x": 1}},
        {},
    ],
    ids=["no-body", "no-subject", "template-and-text", "data-without-template", "nothing"],
)
def test_a_request_is_either_a_template_or_a_subject_and_body(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EmailSendRequest.model_validate({"tenant_id": "t1", "recipient_email": RECIPIENT, **fields})


async def test_an_invalid_recipient_is_refused_without_quoting_it() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    service, events = service_on(transport)

    with pytest.raises(InvalidEmailAddress) as failure:
        await service.send(
            EmailSendRequest(tenant_id="t1", recipient_email="bob@", subject="s", body="b")
        )

    assert "bob@" not in str(failure.value)
    assert (transport.sent, events.events) == ([], [])


async def test_an_unknown_template_is_refused_before_sending() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    service, _ = service_on(transport)

    with pytest.raises(UnknownTemplate):
        await service.send(
            EmailSendRequest(tenant_id="t1", recipient_email=RECIPIENT, template_name="nope")
        )

    assert transport.sent == []


async def test_a_transport_failure_is_recorded_then_raised() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    transport.fail_with(TransportError("the connection dropped", retryable=True))
    service, events = service_on(transport)

    with pytest.raises(TransportError):
        await service.send(
            EmailSendRequest(tenant_id="t1", recipient_email=RECIPIENT, subject="s", body="b")
        )

    (event,) = events.events
    assert isinstance(event, OutboundFailedEvent)
    assert (event.retryable, event.error_message) == (True, "the connection dropped")
    assert (event.tenant_id, event.text) == ("t1", "s")
    assert event.data == {"purpose": "custom", "template": "custom_message"}


def test_the_templates_listing_comes_through_the_service() -> None:
    service, _ = service_on(RecordingTransport(Channel.EMAIL))

    assert [info.name for info in service.templates()] == [
        "alert",
        "custom_message",
        "daily_brief",
        "summary",
    ]


def test_the_service_needs_an_email_transport_and_a_key() -> None:
    sms_only = OutboundSender(
        transports={Channel.SMS: RecordingTransport(Channel.SMS)},
        ledger=InMemoryOutboundLedger(),
        clock=FixedClock(NOW),
        config=ServiceConfig(pseudonym_key=KEY),
    )
    with pytest.raises(ConfigurationError, match="email transport"):
        EmailService(sender=sms_only, templates=TemplateCatalog())
    with pytest.raises(ConfigurationError, match="sends on sms"):
        OutboundSender(
            transports={Channel.EMAIL: RecordingTransport(Channel.SMS)},
            ledger=InMemoryOutboundLedger(),
            clock=FixedClock(NOW),
            config=ServiceConfig(pseudonym_key=KEY),
        )
    with pytest.raises(ValidationError, match="pseudonym key is required"):
        ServiceConfig(pseudonym_key="")


async def test_the_console_transport_prints_a_summary_without_the_address_or_body() -> None:
    stream = io.StringIO()
    transport = ConsoleEmailTransport(stream=stream, clock=FixedClock(NOW))
    service, _ = service_on(transport)

    receipt = await service.send(
        EmailSendRequest(
            tenant_id="t1", recipient_email=RECIPIENT, subject="Hi", body="secret body"
        )
    )

    line = stream.getvalue()
    assert "to=***@example.org" in line
    assert "subject='Hi'" in line
    assert "bob" not in line
    assert "secret body" not in line
    (kept,) = transport.outbox
    assert kept["Message-ID"] == receipt.provider_message_id
    assert kept.get_content_type() == "multipart/alternative"


def test_the_email_package_surface_is_sorted_and_importable() -> None:
    names = walker_channels.email.__all__

    assert list(names) == sorted(names, key=lambda name: (not name[0].isupper(), name))
    for name in names:
        assert getattr(walker_channels.email, name) is not None, name
    with pytest.raises(AttributeError):
        _ = walker_channels.email.Nothing


async def test_the_same_idempotency_key_sends_once_and_reports_the_duplicate() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    ledger = InMemoryOutboundLedger()
    service, _ = service_on(transport, ledger)
    events = ledger.events
    request = EmailSendRequest(
        tenant_id="t1", recipient_email=RECIPIENT, subject="s", body="b", idempotency_key="k-1"
    )

    first = await service.send(request)
    second = await service.send(request)

    assert len(transport.sent) == 1
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.provider_message_id == first.provider_message_id
    assert second.status is DeliveryStatus.SENT
    key = SendPurpose.CUSTOM_EMAIL.key("k-1", tenant_id="t1")
    assert ledger.records[key].state is OutboundState.SENT
    (event,) = events.events
    assert event.idempotency_key == outbound_event_key(key)
    assert "k-1" not in key


async def test_an_idempotency_key_is_per_tenant_and_no_key_never_deduplicates() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    service, events = service_on(transport)

    for tenant in ("t1", "t2"):
        await service.send(
            EmailSendRequest(
                tenant_id=tenant,
                recipient_email=RECIPIENT,
                subject="s",
                body="b",
                idempotency_key="same",
            )
        )
    unkeyed = EmailSendRequest(tenant_id="t1", recipient_email=RECIPIENT, subject="s", body="b")
    receipts = [await service.send(unkeyed) for _ in range(2)]

    assert len(transport.sent) == 4
    assert [receipt.duplicate for receipt in receipts] == [False, False]
    assert len({event.idempotency_key for event in events.events}) == 4


async def test_a_failed_send_may_be_tried_again_under_the_same_key() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    transport.fail_with(TransportError("refused for now", retryable=True))
    service, events = service_on(transport)
    request = EmailSendRequest(
        tenant_id="t1", recipient_email=RECIPIENT, subject="s", body="b", idempotency_key="k-2"
    )

    with pytest.raises(TransportError):
        await service.send(request)
    retried = await service.send(request)

    assert (retried.duplicate, retried.status) == (False, DeliveryStatus.SENT)
    assert len(transport.sent) == 1
    assert isinstance(events.events[0], OutboundFailedEvent)


async def test_a_retry_after_a_failure_records_its_sent_event_too() -> None:
    transport = RecordingTransport(Channel.EMAIL)
    transport.fail_with(TransportError("refused for now", retryable=True))
    service, events = service_on(transport)
    request = EmailSendRequest(
        tenant_id="t1", recipient_email=RECIPIENT, subject="s", body="b", idempotency_key="k-3"
    )

    with pytest.raises(TransportError):
        await service.send(request)
    retried = await service.send(request)

    assert [type(event) for event in events.events] == [OutboundFailedEvent, OutboundEvent]
    assert events.events[1].provider_message_id == retried.provider_message_id
