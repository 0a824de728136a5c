"""Event hooks: the host hears each stored event once, pseudonyms only, and a broken hook never
stops the flow."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.exceptions import ProviderError
from walker_channels.models import (
    AgentRequest,
    ApprovalStatus,
    Channel,
    ConversationMode,
    DeliveryStatus,
    DeliveryUpdate,
    Scope,
)
from walker_channels.models.ids import conversation_id_for
from walker_channels.services import ProcessOutcome
from walker_channels.testing import InMemoryStores, RecordingEvents, RecordingTransport
from walker_channels.twilio import parse_inbound_form

pytestmark = pytest.mark.anyio

TENANT_NUMBER, PERSON = "+14155550100", "+14155552671"
ALL = Scope(tenant_ids=None)
_sids = itertools.count(1)


class Desk:
    """Services over in-memory stores, with the given hooks."""

    def __init__(
        self, services: Services, stores: InMemoryStores, transport: RecordingTransport
    ) -> None:
        self.services = services
        self.stores = stores
        self.transport = transport

    async def says(self, text: str) -> ProcessOutcome | None:
        form = {
            "MessageSid": f"SM{next(_sids):032x}",
            "From": f"whatsapp:{PERSON}",
            "To": f"whatsapp:{TENANT_NUMBER}",
            "Body": text,
        }
        handled = await self.services.conversations.handle(
            parse_inbound_form(form, received_at=datetime.now(UTC))
        )
        return handled.processed

    @property
    def conversation_id(self) -> str:
        pseudonym = self.services.config.pseudonym(PERSON)
        return conversation_id_for("t1", Channel.WHATSAPP.value, pseudonym)


def _unsure_about_refunds(request: AgentRequest) -> float:
    return 0.2 if "refund" in request.text else 0.9


async def _desk(hooks: RecordingEvents) -> AsyncIterator[Desk]:
    stores, transport = InMemoryStores(), RecordingTransport()
    stores.add_number("t1", f"whatsapp:{TENANT_NUMBER}")
    services = build_services(
        Settings(walker_pseudonym_key="hooks-key", walker_sweep_interval=0),
        stores=stores,
        agent=echo_agent(confidence=_unsure_about_refunds),
        whatsapp_transport=transport,
        events_hooks=hooks,
    )
    await services.start()
    try:
        yield Desk(services, stores, transport)
    finally:
        await services.close()


async def _every_kind_of_event(desk: Desk) -> None:
    """A reply, a draft approved, a takeover and release, a refused send, an undelivered one."""
    assert await desk.says("hello") is ProcessOutcome.REPLIED
    assert await desk.says("a refund, please") is ProcessOutcome.ESCALATED
    [item] = await desk.services.review.queue(ALL)
    approved = await desk.services.review.approve(item.approval_id, scope=ALL, reviewer="rev")
    assert approved.status is ApprovalStatus.APPROVED
    handoff = desk.services.handoff
    taken = await handoff.takeover(desk.conversation_id, scope=ALL, by="rev")
    assert taken.mode is ConversationMode.HUMAN
    assert await desk.says("are you a person?") is ProcessOutcome.HUMAN
    await handoff.release(desk.conversation_id, scope=ALL, by="rev")
    desk.transport.fail_with(ProviderError("refused", code="63016", retryable=False))
    assert await desk.says("hello again") is ProcessOutcome.REPLY_FAILED
    first_reply = next(iter(desk.stores.ledger.records.values()))
    assert first_reply.provider_message_id is not None
    update = DeliveryUpdate(
        channel=Channel.WHATSAPP,
        provider_message_id=first_reply.provider_message_id,
        status=DeliveryStatus.UNDELIVERED,
        error_code="30008",
        occurred_at=datetime.now(UTC),
    )
    assert await desk.services.delivery.apply(update) is not None


async def test_a_recording_hook_hears_every_event_once_without_a_number() -> None:
    hooks = RecordingEvents()
    async for desk in _desk(hooks):
        await _every_kind_of_event(desk)

    counts = {name: len(hooks.named(name)) for name, _ in hooks.calls}
    assert counts == {
        "message_received": 4,
        "draft_created": 1,
        "draft_decided": 1,
        "handoff_started": 1,
        "handoff_ended": 1,
        "delivery_failed": 2,
    }
    for name, payload in hooks.calls:
        dumped = payload.model_dump_json()
        assert PERSON.lstrip("+") not in dumped, name
    [decided] = hooks.named("draft_decided")
    assert decided.model_dump()["status"] == ApprovalStatus.APPROVED


async def test_a_raising_hook_does_not_stop_the_flow(caplog: pytest.LogCaptureFixture) -> None:
    hooks = RecordingEvents(fail=True)
    async for desk in _desk(hooks):
        await _every_kind_of_event(desk)
        texts = [m.text for m in desk.transport.sent]
        assert texts[0] == "Echo: hello"
        assert "Echo: a refund, please" in texts  # the approved draft went out

    assert len(hooks.calls) == 10
    assert "the host's draft_created hook raised RuntimeError" in caplog.text
    assert PERSON.lstrip("+") not in caplog.text


async def test_reviewers_are_emailed_once_per_draft_and_handoff_without_the_number() -> None:
    stores, whatsapp = InMemoryStores(), RecordingTransport()
    email = RecordingTransport(Channel.EMAIL)
    stores.add_number("t1", f"whatsapp:{TENANT_NUMBER}")
    services = build_services(
        Settings(
            walker_pseudonym_key="hooks-key",
            walker_sweep_interval=0,
            walker_reviewer_emails="ada@example.com, grace@example.com",
            walker_console_url="https://walker.example.com/console",
        ),
        stores=stores,
        agent=echo_agent(confidence=_unsure_about_refunds),
        whatsapp_transport=whatsapp,
        email_transport=email,
    )
    await services.start()
    try:
        desk = Desk(services, stores, whatsapp)
        assert await desk.says("a refund, please") is ProcessOutcome.ESCALATED
        await services.handoff.takeover(desk.conversation_id, scope=ALL, by="rev")
    finally:
        await services.close()

    subjects = sorted((m.to.value, m.email.subject) for m in email.sent if m.email)
    assert subjects == [
        ("ada@example.com", "A conversation was handed to a human (t1)"),
        ("ada@example.com", "A draft waits for review (t1)"),
        ("grace@example.com", "A conversation was handed to a human (t1)"),
        ("grace@example.com", "A draft waits for review (t1)"),
    ]
    for message in email.sent:
        assert message.email is not None
        assert PERSON.lstrip("+") not in message.email.text
        assert "refund" not in message.email.text
        assert "https://walker.example.com/console" in message.email.text
