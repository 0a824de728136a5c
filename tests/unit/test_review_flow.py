"""Human review: the queue, and approve, reject and expire, each claimed once and recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from walker_channels.exceptions import (
    AlreadyDecided,
    ApprovalNotFound,
    ConfigurationError,
    InvalidInput,
    OutsideServiceWindow,
    StaleApproval,
)
from walker_channels.models import (
    Address,
    Approval,
    ApprovalStatus,
    ApprovedEvent,
    Channel,
    EscalationReason,
    ExpiredEvent,
    InboundEvent,
    OutboundEvent,
    RejectedEvent,
    RiskLevel,
    Scope,
    SlaStatus,
)
from walker_channels.services import (
    EXPIRY_REVIEWER,
    ExpiryPolicy,
    IgnoredEvents,
    OutboundSender,
    ReviewService,
    ServiceConfig,
)
from walker_channels.testing import (
    FixedClock,
    InMemoryApprovalStore,
    InMemoryEventStore,
    InMemoryOutboundLedger,
    RecordingTransport,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSON = "+14155552671"
TENANT_NUMBER = "+14155550100"
ALL = Scope(tenant_ids=None)
CONFIG = ServiceConfig(pseudonym_key="review-test-key", review_sla=timedelta(hours=1))


class Notifier(IgnoredEvents):
    """Host hooks that remember whom they reminded."""

    def __init__(self) -> None:
        self.overdue: list[str] = []

    async def draft_overdue(self, approval: Approval) -> None:
        self.overdue.append(approval.id)


class Desk:
    """A review service over in-memory stores and recording transports."""

    def __init__(self, **config: Any) -> None:
        self.clock = FixedClock(T0)
        self.config = CONFIG.replace(**config)
        self.approvals = InMemoryApprovalStore()
        self.events = InMemoryEventStore()
        self.ledger = InMemoryOutboundLedger(self.events)
        self.whatsapp = RecordingTransport(Channel.WHATSAPP)
        self.sms = RecordingTransport(Channel.SMS)
        self.notifier = Notifier()
        sender = OutboundSender(
            transports={Channel.WHATSAPP: self.whatsapp, Channel.SMS: self.sms},
            ledger=self.ledger,
            clock=self.clock,
            config=self.config,
        )
        self.review = ReviewService(
            config=self.config,
            approvals=self.approvals,
            events=self.events,
            sender=sender,
            clock=self.clock,
            hooks=self.notifier,
        )

    async def person_writes(
        self, *, tenant: str = "t1", channel: Channel = Channel.WHATSAPP
    ) -> None:
        await self.events.append(
            InboundEvent(
                tenant_id=tenant,
                channel=channel,
                participant=self.config.pseudonym(PERSON),
                occurred_at=self.clock.now(),
                text="hello?",
            )
        )

    async def draft(
        self,
        text: str = "We open at nine.",
        *,
        tenant: str = "t1",
        channel: Channel = Channel.WHATSAPP,
        deadline: timedelta = timedelta(hours=4),
    ) -> Approval:
        """The person writes, then the agent's unsure draft waits for review."""
        await self.person_writes(tenant=tenant, channel=channel)
        approval = Approval(
            tenant_id=tenant,
            channel=channel,
            participant=self.config.pseudonym(PERSON),
            recipient=Address(channel=channel, value=PERSON),
            agent_type="support",
            action_data={"sender": TENANT_NUMBER},
            proposed_text=text,
            confidence=0.4,
            risk_level=RiskLevel.MEDIUM,
            reason=EscalationReason.LOW_CONFIDENCE,
            created_at=self.clock.now(),
            expires_at=self.clock.now() + deadline,
            session_id="s1",
        )
        await self.approvals.create(approval)
        return approval

    def sent(self) -> list[str | None]:
        return [m.text for m in [*self.whatsapp.sent, *self.sms.sent]]

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events.events if isinstance(event, kind)]


@pytest.fixture
def desk() -> Desk:
    return Desk()


async def test_the_queue_shows_pending_drafts_oldest_first_anonymised(desk: Desk) -> None:
    first = await desk.draft("Call me on +1 415 555 2671 tomorrow, we can sort it out then.")
    desk.clock.advance(timedelta(minutes=10))
    second = await desk.draft("Second draft")
    desk.clock.advance(timedelta(minutes=40))

    items = await desk.review.queue(ALL)

    assert [item.approval_id for item in items] == [first.id, second.id]
    oldest = items[0]
    assert oldest.participant == desk.config.pseudonym(PERSON)
    assert oldest.preview.startswith("Call me on [phone]")
    assert len(oldest.preview) <= 50
    assert oldest.age_seconds == 50 * 60
    assert oldest.sla_status is SlaStatus.AT_RISK
    assert items[1].sla_status is SlaStatus.ON_TRACK
    assert not any(item.stale for item in items[1:])
    for item in items:
        assert "555" not in item.model_dump_json()


async def test_the_queue_shows_only_the_tenants_in_scope(desk: Desk) -> None:
    await desk.draft(tenant="t1")
    theirs = await desk.draft(tenant="t2")

    items = await desk.review.queue(Scope(tenant_ids=frozenset({"t2"})))

    assert [item.approval_id for item in items] == [theirs.id]


async def test_approving_sends_the_draft_once_and_records_the_decision(desk: Desk) -> None:
    draft = await desk.draft()

    outcome = await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1")

    assert outcome.status is ApprovalStatus.APPROVED
    assert outcome.receipt is not None
    assert outcome.receipt.key == f"approval:{draft.id}"
    assert desk.sent() == ["We open at nine."]
    assert desk.whatsapp.sent[0].sender == Address(channel=Channel.WHATSAPP, value=TENANT_NUMBER)
    [approved] = desk.of_type(ApprovedEvent)
    assert (approved.decided_by, approved.edited) == ("rev-1", False)
    [outbound] = desk.of_type(OutboundEvent)
    assert (outbound.hitl, outbound.agent_id, outbound.session_id) == (True, "support", "s1")
    stored = desk.approvals.approvals[draft.id]
    assert (stored.decided_by, stored.final_text) == ("rev-1", "We open at nine.")
    assert await desk.review.queue(ALL) == ()


async def test_an_edited_approval_sends_the_edit(desk: Desk) -> None:
    draft = await desk.draft()

    await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1", text="We open at 8:30.")

    assert desk.sent() == ["We open at 8:30."]
    [approved] = desk.of_type(ApprovedEvent)
    assert approved.edited


async def test_two_concurrent_approvals_of_one_draft_send_once(desk: Desk) -> None:
    draft = await desk.draft()

    results = await asyncio.gather(
        desk.review.approve(draft.id, scope=ALL, reviewer="rev-1"),
        desk.review.approve(draft.id, scope=ALL, reviewer="rev-2", text="Edited"),
        return_exceptions=True,
    )

    assert sum(isinstance(r, AlreadyDecided) for r in results) == 1
    assert len(desk.sent()) == 1
    assert len(desk.of_type(ApprovedEvent)) == 1


async def test_a_decided_draft_cannot_be_decided_again(desk: Desk) -> None:
    draft = await desk.draft()
    await desk.review.reject(draft.id, scope=ALL, reviewer="rev-1")

    with pytest.raises(AlreadyDecided):
        await desk.review.approve(draft.id, scope=ALL, reviewer="rev-2")
    assert desk.sent() == []


async def test_an_unknown_or_foreign_draft_is_not_found(desk: Desk) -> None:
    draft = await desk.draft(tenant="t1")

    with pytest.raises(ApprovalNotFound):
        await desk.review.approve("no-such-id", scope=ALL, reviewer="rev-1")
    with pytest.raises(ApprovalNotFound):
        await desk.review.approve(draft.id, scope=Scope(tenant_ids=frozenset({"t2"})), reviewer="r")
    with pytest.raises(ApprovalNotFound):
        await desk.review.reject(draft.id, scope=Scope(tenant_ids=frozenset()), reviewer="r")
    assert desk.approvals.approvals[draft.id].status is ApprovalStatus.PENDING


async def test_a_draft_the_person_wrote_after_is_stale_and_needs_an_override(desk: Desk) -> None:
    draft = await desk.draft()
    desk.clock.advance(timedelta(minutes=3))
    await desk.person_writes()

    [item] = await desk.review.queue(ALL)
    assert item.stale
    with pytest.raises(StaleApproval):
        await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1")
    assert desk.sent() == []

    outcome = await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1", override_stale=True)

    assert outcome.status is ApprovalStatus.APPROVED
    assert desk.sent() == ["We open at nine."]


async def test_a_whatsapp_draft_past_the_24_hour_window_cannot_be_approved(desk: Desk) -> None:
    draft = await desk.draft(deadline=timedelta(days=3))
    desk.clock.advance(timedelta(hours=25))

    with pytest.raises(OutsideServiceWindow, match="template"):
        await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1")
    assert desk.approvals.approvals[draft.id].status is ApprovalStatus.PENDING


async def test_a_draft_without_text_must_be_approved_with_text(desk: Desk) -> None:
    draft = await desk.draft("")

    with pytest.raises(InvalidInput, match="no text"):
        await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1")
    with pytest.raises(InvalidInput, match="empty"):
        await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1", text="  ")
    await desk.review.approve(draft.id, scope=ALL, reviewer="rev-1", text="We open at nine.")

    assert desk.sent() == ["We open at nine."]


async def test_rejecting_records_the_decision_and_sends_nothing(desk: Desk) -> None:
    draft = await desk.draft()

    outcome = await desk.review.reject(draft.id, scope=ALL, reviewer="rev-1")

    assert (outcome.status, outcome.receipt) == (ApprovalStatus.REJECTED, None)
    [rejected] = desk.of_type(RejectedEvent)
    assert (rejected.approval_id, rejected.decided_by) == (draft.id, "rev-1")
    assert desk.sent() == []


async def test_rejecting_with_a_fallback_sends_the_fallback(desk: Desk) -> None:
    draft = await desk.draft()

    outcome = await desk.review.reject(
        draft.id, scope=ALL, reviewer="rev-1", fallback_text="Please call our office."
    )

    assert outcome.receipt is not None
    assert outcome.receipt.key == f"fallback:{draft.id}"
    assert desk.sent() == ["Please call our office."]


async def test_expiring_silently_marks_due_drafts_expired(desk: Desk) -> None:
    due = await desk.draft(deadline=timedelta(hours=1))
    later = await desk.draft(deadline=timedelta(hours=5))
    desk.clock.advance(timedelta(hours=2))

    outcomes = await desk.review.expire_due()

    assert [(o.approval_id, o.status) for o in outcomes] == [(due.id, ApprovalStatus.EXPIRED)]
    assert desk.approvals.approvals[due.id].decided_by == EXPIRY_REVIEWER
    assert desk.approvals.approvals[later.id].status is ApprovalStatus.PENDING
    [expired] = desk.of_type(ExpiredEvent)
    assert expired.data == {"policy": "expire"}
    assert desk.sent() == []
    assert await desk.review.expire_due() == ()


async def test_expiring_with_the_fallback_policy_tells_the_person() -> None:
    desk = Desk(expiry_policy=ExpiryPolicy.FALLBACK, expiry_fallback_text="Sorry for the wait.")
    due = await desk.draft(deadline=timedelta(hours=1))
    desk.clock.advance(timedelta(hours=2))

    [outcome] = await desk.review.expire_due()

    assert outcome.status is ApprovalStatus.EXPIRED
    assert outcome.receipt is not None
    assert outcome.receipt.key == f"expiry:{due.id}"
    assert desk.sent() == ["Sorry for the wait."]
    [outbound] = desk.of_type(OutboundEvent)
    assert not outbound.hitl


async def test_the_expiry_fallback_respects_the_whatsapp_window_but_not_on_sms() -> None:
    desk = Desk(expiry_policy=ExpiryPolicy.FALLBACK, expiry_fallback_text="Sorry for the wait.")
    await desk.draft(channel=Channel.WHATSAPP, deadline=timedelta(hours=24))
    await desk.draft(channel=Channel.SMS, deadline=timedelta(hours=24))
    desk.clock.advance(timedelta(hours=25))

    outcomes = await desk.review.expire_due()

    assert [o.status for o in outcomes] == [ApprovalStatus.EXPIRED] * 2
    assert [m.text for m in desk.sms.sent] == ["Sorry for the wait."]
    assert desk.whatsapp.sent == []
    whatsapp_expiry = next(e for e in desk.of_type(ExpiredEvent) if e.channel is Channel.WHATSAPP)
    assert "window" in str(whatsapp_expiry.data["fallback"])


async def test_the_renotify_policy_reminds_reviewers_and_keeps_the_draft() -> None:
    desk = Desk(expiry_policy=ExpiryPolicy.RENOTIFY)
    due = await desk.draft(deadline=timedelta(hours=1))
    desk.clock.advance(timedelta(hours=2))

    [outcome] = await desk.review.expire_due()
    await desk.review.expire_due()

    assert outcome.status is ApprovalStatus.PENDING
    assert desk.notifier.overdue == [due.id, due.id]
    assert len(desk.of_type(ExpiredEvent)) == 1
    assert desk.sent() == []
    await desk.review.approve(due.id, scope=ALL, reviewer="rev-1")
    assert desk.sent() == ["We open at nine."]


def test_the_renotify_policy_needs_hooks() -> None:
    config = CONFIG.replace(expiry_policy=ExpiryPolicy.RENOTIFY)
    with pytest.raises(ConfigurationError, match="event hooks"):
        ReviewService(
            config=config,
            approvals=InMemoryApprovalStore(),
            events=InMemoryEventStore(),
            sender=OutboundSender(
                transports={},
                ledger=InMemoryOutboundLedger(),
                clock=FixedClock(T0),
                config=config,
            ),
            clock=FixedClock(T0),
        )


async def test_no_review_event_holds_a_raw_number(desk: Desk) -> None:
    first = await desk.draft()
    second = await desk.draft()
    await desk.review.approve(first.id, scope=ALL, reviewer="rev-1")
    await desk.review.reject(second.id, scope=ALL, reviewer="rev-1", fallback_text="Sorry.")

    for event in desk.events.events:
        assert PERSON.lstrip("+") not in event.model_dump_json()
