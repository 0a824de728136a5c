"""A decided draft forgets the person's number once no send can need it; the sweeper purges
old message text when a retention period is set; erasure reads the number as an operator types it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walker_channels.agents import echo_agent
from walker_channels.app import Settings, Sweeper, build_services
from walker_channels.exceptions import (
    ConfigurationError,
    InvalidEmailAddress,
    InvalidPhoneNumber,
    ProviderError,
)
from walker_channels.models import (
    Address,
    Approval,
    Channel,
    EscalationReason,
    InboundEvent,
    RiskLevel,
    Scope,
)
from walker_channels.services import ExpiryPolicy, PrivacyService, ServiceConfig
from walker_channels.services.privacy import participant_address
from walker_channels.testing import FixedClock, InMemoryStores, RecordingTransport

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON, TENANT_NUMBER = "+14155552671", "+14155550100"
ALL = Scope(tenant_ids=None)


class World:
    """The services over in-memory stores, a fixed clock and a recording transport."""

    def __init__(self, **settings: object) -> None:
        self.clock = FixedClock(T0)
        self.stores = InMemoryStores()
        self.transport = RecordingTransport()
        config = ServiceConfig(
            pseudonym_key="privacy-test-key",
            expiry_policy=ExpiryPolicy.EXPIRE,
            approval_deadline=timedelta(hours=1),
        )
        self.services = build_services(
            Settings(walker_pseudonym_key="privacy-test-key", walker_sweep_interval=0, **settings),
            clock=self.clock,
            stores=self.stores,
            agent=echo_agent(),
            whatsapp_transport=self.transport,
            service_config=config,
        )

    async def draft(self) -> Approval:
        """The person wrote; an unsure draft for them waits for review."""
        participant = self.services.config.pseudonym(PERSON)
        await self.stores.events.append(
            InboundEvent(
                tenant_id="t1",
                channel=Channel.WHATSAPP,
                participant=participant,
                occurred_at=self.clock.now(),
                text="hello?",
            )
        )
        approval = Approval(
            tenant_id="t1",
            channel=Channel.WHATSAPP,
            participant=participant,
            recipient=Address(channel=Channel.WHATSAPP, value=PERSON),
            agent_type="support",
            action_data={"sender": TENANT_NUMBER},
            proposed_text="We open at nine.",
            confidence=0.3,
            risk_level=RiskLevel.MEDIUM,
            reason=EscalationReason.LOW_CONFIDENCE,
            created_at=self.clock.now(),
            expires_at=self.clock.now() + timedelta(hours=1),
        )
        await self.stores.approvals.create(approval)
        return approval

    def inbound_texts(self) -> list[str]:
        return [e.text for e in self.stores.events.events if isinstance(e, InboundEvent)]

    def recipient(self, approval: Approval) -> Address | None:
        return self.stores.approvals.approvals[approval.id].recipient


async def test_an_approved_draft_that_went_out_forgets_the_number() -> None:
    world = World()
    draft = await world.draft()

    outcome = await world.services.review.approve(draft.id, scope=ALL, reviewer="rev")

    assert outcome.receipt is not None
    assert outcome.receipt.state == "sent"
    assert world.recipient(draft) is None


async def test_an_approved_draft_whose_send_failed_leaves_the_number_to_the_ledger_only() -> None:
    world = World()
    draft = await world.draft()
    world.transport.fail_with(ProviderError("Twilio is down", retryable=True, code="500"))

    outcome = await world.services.review.approve(draft.id, scope=ALL, reviewer="rev")

    assert outcome.receipt is not None
    assert outcome.receipt.state == "failed"
    assert world.recipient(draft) is None
    # The retry sends what the ledger kept, to the person's number.
    record = await world.services.stores.ledger.get(outcome.receipt.key)
    assert record is not None
    assert record.payload is not None
    assert record.payload.message.to == draft.recipient


async def test_a_rejected_draft_forgets_the_number() -> None:
    world = World()
    silent, sent, failed = await world.draft(), await world.draft(), await world.draft()
    review = world.services.review

    await review.reject(silent.id, scope=ALL, reviewer="rev")
    await review.reject(sent.id, scope=ALL, reviewer="rev", fallback_text="Call us, please.")
    world.transport.fail_with(ProviderError("Twilio is down", retryable=True, code="500"))
    await review.reject(failed.id, scope=ALL, reviewer="rev", fallback_text="Call us, please.")

    recipients = {world.recipient(silent), world.recipient(sent), world.recipient(failed)}
    assert recipients == {None}


async def test_an_expired_draft_forgets_the_number() -> None:
    world = World()
    draft = await world.draft()
    world.clock.advance(timedelta(hours=2))

    await world.services.review.expire_due()

    assert world.recipient(draft) is None


async def test_a_pending_draft_keeps_the_number() -> None:
    world = World()
    draft = await world.draft()

    # Only decided drafts are cleared: the store refuses a pending one.
    assert await world.services.review.forget_recipient(draft) is False
    assert world.recipient(draft) == draft.recipient


async def test_the_sweeper_purges_old_text_once_per_interval_when_retention_is_set() -> None:
    world = World(walker_retention_days=30)
    services = world.services
    sweeper = Sweeper(
        conversations=services.conversations,
        review=services.review,
        interval=1,
        privacy=services.privacy,
    )
    await world.draft()
    world.clock.advance(timedelta(days=31))

    await sweeper.sweep()
    await world.draft()  # today's: kept
    world.clock.advance(timedelta(minutes=5))
    await sweeper.sweep()

    assert world.inbound_texts() == ["", "hello?"]
    world.clock.advance(timedelta(days=31))
    await sweeper.sweep()
    assert world.inbound_texts() == ["", ""]


async def test_without_retention_the_sweeper_purges_nothing() -> None:
    world = World()
    await world.draft()
    world.clock.advance(timedelta(days=3650))

    assert await world.services.privacy.purge_due() is None
    with pytest.raises(ConfigurationError):
        await world.services.privacy.purge()
    assert world.inbound_texts() == ["hello?"]


def test_a_retention_period_must_be_positive() -> None:
    with pytest.raises(ConfigurationError):
        Settings(walker_retention_days=0)
    stores = InMemoryStores()
    with pytest.raises(ConfigurationError):
        PrivacyService(
            store=stores.privacy,
            config=ServiceConfig(pseudonym_key="k"),
            clock=FixedClock(T0),
            retention=timedelta(0),
        )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+14155552671", "+14155552671"),
        (" whatsapp:+14155552671 ", "+14155552671"),
        ("whatsapp:US.13491208655302741918", "US.13491208655302741918"),
        ("Ada@Example.com", "Ada@Example.com"),
    ],
)
def test_the_participant_is_read_as_webhooks_store_it(typed: str, stored: str) -> None:
    assert participant_address(typed) == stored


@pytest.mark.parametrize("typed", ["", "call me", "12", "a b@example.com", "ada@localhost"])
def test_a_participant_that_is_no_address_is_refused_without_echoing_it(typed: str) -> None:
    with pytest.raises((InvalidPhoneNumber, InvalidEmailAddress)) as caught:
        participant_address(typed)
    assert typed.strip() == "" or typed not in str(caught.value)
