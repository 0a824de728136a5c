"""Event hooks for tests: one that records every call, or one whose every call raises."""

from __future__ import annotations

from pydantic import BaseModel

from walker_channels.models import (
    Approval,
    DeliveryStatusEvent,
    HandoffEndedEvent,
    HandoffStartedEvent,
    InboundEvent,
    OutboundFailedEvent,
)


class RecordingEvents:
    """A :class:`~walker_channels.ports.ChannelEvents` that keeps ``(hook, payload)`` pairs.

    With ``fail``, each call is recorded and then raises :class:`RuntimeError`: the services
    must log it and go on.
    """

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[tuple[str, BaseModel]] = []
        self._fail = fail

    def named(self, hook: str) -> list[BaseModel]:
        """The payloads of every call of ``hook``, in order."""
        return [payload for name, payload in self.calls if name == hook]

    async def draft_created(self, approval: Approval) -> None:
        """Record it."""
        self._record("draft_created", approval)

    async def draft_decided(self, approval: Approval) -> None:
        """Record it."""
        self._record("draft_decided", approval)

    async def draft_overdue(self, approval: Approval) -> None:
        """Record it."""
        self._record("draft_overdue", approval)

    async def handoff_started(self, event: HandoffStartedEvent) -> None:
        """Record it."""
        self._record("handoff_started", event)

    async def handoff_ended(self, event: HandoffEndedEvent) -> None:
        """Record it."""
        self._record("handoff_ended", event)

    async def delivery_failed(self, event: OutboundFailedEvent | DeliveryStatusEvent) -> None:
        """Record it."""
        self._record("delivery_failed", event)

    async def message_received(self, event: InboundEvent) -> None:
        """Record it."""
        self._record("message_received", event)

    def _record(self, hook: str, payload: BaseModel) -> None:
        self.calls.append((hook, payload))
        if self._fail:
            raise RuntimeError(f"the {hook} hook is broken")
