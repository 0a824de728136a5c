"""The host's event hooks, called safely: after the event is stored, errors logged, no addresses.

Services hold a :class:`Hooks`, which wraps the host's
:class:`~walker_channels.ports.ChannelEvents` (or nothing): each call strips the raw address
of a draft, and an exception of the host's hook is logged (by type, never with data) and
swallowed, so a broken notifier never stops a reply or a decision.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from walker_channels.models import (
    Approval,
    DeliveryStatusEvent,
    HandoffEndedEvent,
    HandoffStartedEvent,
    InboundEvent,
    OutboundFailedEvent,
)
from walker_channels.ports import ChannelEvents

log = logging.getLogger(__name__)
T = TypeVar("T")


class IgnoredEvents:
    """A :class:`~walker_channels.ports.ChannelEvents` that does nothing; subclass it to hear
    only the events you need."""

    async def draft_created(self, approval: Approval) -> None:
        """Ignored."""

    async def draft_decided(self, approval: Approval) -> None:
        """Ignored."""

    async def draft_overdue(self, approval: Approval) -> None:
        """Ignored."""

    async def handoff_started(self, event: HandoffStartedEvent) -> None:
        """Ignored."""

    async def handoff_ended(self, event: HandoffEndedEvent) -> None:
        """Ignored."""

    async def delivery_failed(self, event: OutboundFailedEvent | DeliveryStatusEvent) -> None:
        """Ignored."""

    async def message_received(self, event: InboundEvent) -> None:
        """Ignored."""


class Hooks:
    """The host's hooks as the services call them: never raising, pseudonyms only."""

    def __init__(self, host: ChannelEvents | None = None) -> None:
        self._host = host

    @property
    def present(self) -> bool:
        """Whether the host gave hooks."""
        return self._host is not None

    async def draft_created(self, approval: Approval) -> None:
        """Tell the host a draft went to review."""
        if self._host is not None:
            await _guarded("draft_created", self._host.draft_created, _anonymous(approval))

    async def draft_decided(self, approval: Approval) -> None:
        """Tell the host a draft was approved, rejected or expired."""
        if self._host is not None:
            await _guarded("draft_decided", self._host.draft_decided, _anonymous(approval))

    async def draft_overdue(self, approval: Approval) -> None:
        """Tell the host a draft is past its deadline."""
        if self._host is not None:
            await _guarded("draft_overdue", self._host.draft_overdue, _anonymous(approval))

    async def handoff_started(self, event: HandoffStartedEvent) -> None:
        """Tell the host a human took a conversation over."""
        if self._host is not None:
            await _guarded("handoff_started", self._host.handoff_started, event)

    async def handoff_ended(self, event: HandoffEndedEvent) -> None:
        """Tell the host a conversation went back to the agent."""
        if self._host is not None:
            await _guarded("handoff_ended", self._host.handoff_ended, event)

    async def delivery_failed(self, event: OutboundFailedEvent | DeliveryStatusEvent) -> None:
        """Tell the host a send failed or was not delivered."""
        if self._host is not None:
            await _guarded("delivery_failed", self._host.delivery_failed, event)

    async def message_received(self, event: InboundEvent) -> None:
        """Tell the host a message was recorded."""
        if self._host is not None:
            await _guarded("message_received", self._host.message_received, event)


def _anonymous(approval: Approval) -> Approval:
    return approval if approval.recipient is None else approval.replace(recipient=None)


async def _guarded(name: str, hook: Callable[[T], Awaitable[None]], payload: T) -> None:
    try:
        await hook(payload)
    except Exception as exc:  # the host's code: whatever it raises must not break the flow
        log.error("the host's %s hook raised %s; the flow goes on", name, type(exc).__name__)


class FanOut:
    """Several hosts' :class:`~walker_channels.ports.ChannelEvents` as one: each hears every
    event, and one that raises does not keep the others from hearing it."""

    def __init__(self, *hooks: ChannelEvents) -> None:
        self._hooks = tuple(Hooks(hook) for hook in hooks)

    async def draft_created(self, approval: Approval) -> None:
        """Tell each."""
        for hook in self._hooks:
            await hook.draft_created(approval)

    async def draft_decided(self, approval: Approval) -> None:
        """Tell each."""
        for hook in self._hooks:
            await hook.draft_decided(approval)

    async def draft_overdue(self, approval: Approval) -> None:
        """Tell each."""
        for hook in self._hooks:
            await hook.draft_overdue(approval)

    async def handoff_started(self, event: HandoffStartedEvent) -> None:
        """Tell each."""
        for hook in self._hooks:
            await hook.handoff_started(event)

    async def handoff_ended(self, event: HandoffEndedEvent) -> None:
        """Tell each."""
        for hook in self._hooks:
            await hook.handoff_ended(event)

    async def delivery_failed(self, event: OutboundFailedEvent | DeliveryStatusEvent) -> None:
        """Tell each."""
        for hook in self._hooks:
            await hook.delivery_failed(event)

    async def message_received(self, event: InboundEvent) -> None:
        """Tell each."""
        for hook in self._hooks:
            await hook.message_received(event)
