"""The :class:`~walker_channels.ports.ApprovalStore` contract."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from walker_channels.exceptions import AlreadyDecided, ApprovalNotFound
from walker_channels.models import (
    Address,
    Approval,
    ApprovalStatus,
    Channel,
    Decision,
    EscalationReason,
    RiskLevel,
    Scope,
)
from walker_channels.ports import ApprovalStore
from walker_channels.testing.contracts.common import ALL, T0


def approval(tenant: str = "t1", *, at: datetime = T0, expires: datetime | None = None) -> Approval:
    """A pending approval for the suites."""
    return Approval(
        tenant_id=tenant,
        channel=Channel.WHATSAPP,
        participant="p1",
        recipient=Address(channel=Channel.WHATSAPP, value="+14155552671"),
        agent_type="support",
        proposed_text="draft",
        confidence=0.3,
        risk_level=RiskLevel.MEDIUM,
        reason=EscalationReason.LOW_CONFIDENCE,
        created_at=at,
        expires_at=expires,
    )


@pytest.mark.anyio
class ApprovalStoreContract:
    """Provide an empty store as the ``approval_store`` fixture."""

    @pytest.fixture
    def approval_store(self) -> ApprovalStore:
        """Override: an empty ApprovalStore."""
        raise NotImplementedError

    async def test_an_approval_round_trips(self, approval_store: ApprovalStore) -> None:
        item = approval()
        await approval_store.create(item)
        assert await approval_store.get(item.id) == item
        assert await approval_store.get("missing") is None

    async def test_pending_are_listed_oldest_first_within_scope(
        self, approval_store: ApprovalStore
    ) -> None:
        newer, older = approval(at=T0 + timedelta(minutes=5)), approval(at=T0)
        other = approval("t2", at=T0 - timedelta(minutes=5))
        for item in (newer, older, other):
            await approval_store.create(item)
        listed = await approval_store.list_pending(Scope(tenant_ids=frozenset({"t1"})))
        assert [a.id for a in listed] == [older.id, newer.id]
        assert [a.id for a in await approval_store.list_pending(ALL, limit=1, offset=1)] == [
            older.id
        ]

    async def test_a_decision_moves_a_pending_approval(self, approval_store: ApprovalStore) -> None:
        item = approval()
        await approval_store.create(item)
        decision = Decision(
            status=ApprovalStatus.APPROVED, decided_by="rev", decided_at=T0, final_text="edited"
        )
        decided = await approval_store.decide(item.id, decision)
        assert (decided.status, decided.decided_by, decided.final_text) == (
            ApprovalStatus.APPROVED,
            "rev",
            "edited",
        )
        assert await approval_store.get(item.id) == decided
        assert await approval_store.list_pending(ALL) == []

    async def test_a_second_decision_is_refused(self, approval_store: ApprovalStore) -> None:
        item = approval()
        await approval_store.create(item)
        reject = Decision(status=ApprovalStatus.REJECTED, decided_by="a", decided_at=T0)
        await approval_store.decide(item.id, reject)
        with pytest.raises(AlreadyDecided):
            await approval_store.decide(item.id, reject.replace(decided_by="b"))

    async def test_deciding_an_unknown_approval_is_not_found(
        self, approval_store: ApprovalStore
    ) -> None:
        decision = Decision(status=ApprovalStatus.REJECTED, decided_by="a", decided_at=T0)
        with pytest.raises(ApprovalNotFound):
            await approval_store.decide("missing", decision)

    async def test_concurrent_decisions_have_one_winner(
        self, approval_store: ApprovalStore
    ) -> None:
        item = approval()
        await approval_store.create(item)

        async def decide(n: int) -> bool:
            decision = Decision(status=ApprovalStatus.APPROVED, decided_by=f"r{n}", decided_at=T0)
            try:
                await approval_store.decide(item.id, decision)
            except AlreadyDecided:
                return False
            return True

        assert (await asyncio.gather(*(decide(n) for n in range(10)))).count(True) == 1

    async def test_expired_lists_pending_past_their_deadline(
        self, approval_store: ApprovalStore
    ) -> None:
        due = approval(expires=T0 + timedelta(hours=1))
        later = approval(expires=T0 + timedelta(hours=3))
        for item in (due, later, approval()):
            await approval_store.create(item)
        expired = await approval_store.list_expired(T0 + timedelta(hours=2))
        assert [a.id for a in expired] == [due.id]

    async def test_a_decided_approval_forgets_its_recipient_once(
        self, approval_store: ApprovalStore
    ) -> None:
        item = approval()
        await approval_store.create(item)
        reject = Decision(status=ApprovalStatus.REJECTED, decided_by="a", decided_at=T0)
        await approval_store.decide(item.id, reject)

        assert await approval_store.clear_recipient(item.id) is True
        assert await approval_store.clear_recipient(item.id) is False
        cleared = await approval_store.get(item.id)
        assert cleared is not None
        assert cleared.recipient is None
        assert cleared.status is ApprovalStatus.REJECTED

    async def test_a_pending_or_unknown_approval_keeps_its_recipient(
        self, approval_store: ApprovalStore
    ) -> None:
        item = approval()
        await approval_store.create(item)

        assert await approval_store.clear_recipient(item.id) is False
        assert await approval_store.clear_recipient("missing") is False
        assert await approval_store.get(item.id) == item
