"""The built-in dispatchers, on in-memory stores: background, inline, polling, and the wake-up.

Each test builds the services with ``build_services`` (as a host does), so the same tests
check that ``WALKER_WEBHOOK_PROCESSING`` still picks the built-in it always meant.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from sweeping import WatchedSweeper
from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, Sweeper, build_services
from walker_channels.app.wakeup import wakeup_for
from walker_channels.dispatch import BackgroundDispatcher, InlineDispatcher, PollingDispatcher
from walker_channels.exceptions import StoreError
from walker_channels.models import (
    Address,
    Channel,
    InboundMessage,
    OutboundMessage,
    QueuedInbound,
    SendResult,
)
from walker_channels.ports import AfterResponse
from walker_channels.services import AcceptOutcome, AcceptResult, ProcessOutcome
from walker_channels.testing import InMemoryStores, RecordingTransport
from walker_channels.wakeups import LocalWakeup

pytestmark = pytest.mark.anyio

NUMBER, PERSON, STRANGER_NUMBER = "+14155550100", "+14155552671", "+14155550999"
DEADLINE = 20.0
"""Generous: the sweepers below would otherwise wait an hour."""
HOUR = 3600.0


def message(n: int = 1, *, to: str = NUMBER) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        sender=Address(channel=Channel.WHATSAPP, value=PERSON),
        recipient=Address(channel=Channel.WHATSAPP, value=to),
        text=f"question {n}",
        provider_message_id=f"SM{n:032x}",
        received_at=datetime.now(UTC),
    )


class NotifyingTransport(RecordingTransport):
    """Records, and sets ``sent_one`` at every send."""

    def __init__(self) -> None:
        super().__init__(Channel.WHATSAPP)
        self.sent_one = asyncio.Event()

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await super().send(message)
        self.sent_one.set()
        return result


class World:
    """One set of in-memory stores, shared by every service set built on it."""

    def __init__(self) -> None:
        self.stores = InMemoryStores()
        self.transport = NotifyingTransport()

    async def services(self, processing: str = "background", **overrides: Any) -> Services:
        settings = Settings(
            walker_pseudonym_key="dispatch-test-key",
            walker_webhook_processing=processing,
            walker_sweep_interval=0,
        )
        overrides.setdefault("agent", echo_agent())
        services = build_services(
            settings, stores=self.stores, whatsapp_transport=self.transport, **overrides
        )
        await services.stores.tenants.add_number("acme", f"whatsapp:{NUMBER}")  # type: ignore[attr-defined]
        return services

    def texts(self) -> list[str | None]:
        return [sent.text for sent in self.transport.sent]

    async def replies(self, count: int) -> None:
        """Wait until ``count`` replies went out (at most :data:`DEADLINE`)."""
        async with asyncio.timeout(DEADLINE):
            while len(self.transport.sent) < count:
                self.transport.sent_one.clear()
                await self.transport.sent_one.wait()

    async def queued(self) -> int:
        return (await self.stores.inbox.stats(now=datetime.now(UTC))).waiting


async def accepted(services: Services, n: int = 1) -> AcceptResult:
    result = await services.conversations.accept(message(n))
    assert result.outcome is AcceptOutcome.ACCEPTED
    assert result.conversation is not None
    return result


async def dispatched(services: Services, n: int = 1) -> AfterResponse | None:
    result = await accepted(services, n)
    assert result.conversation is not None
    return await services.dispatcher.dispatch(result.message_id, conversation=result.conversation)


@pytest.fixture
def world() -> World:
    return World()


@pytest.mark.parametrize(
    ("processing", "kind"),
    [
        ("background", BackgroundDispatcher),
        ("inline", InlineDispatcher),
        ("queue", PollingDispatcher),
    ],
)
async def test_the_processing_setting_picks_its_built_in_dispatcher(
    world: World, processing: str, kind: type[object]
) -> None:
    assert isinstance((await world.services(processing)).dispatcher, kind)


async def test_a_dispatcher_passed_in_replaces_the_built_in(world: World) -> None:
    mine = PollingDispatcher(LocalWakeup())

    assert (await world.services("inline", dispatcher=mine)).dispatcher is mine


async def test_accept_carries_the_message_id_and_conversation_key(world: World) -> None:
    services = await world.services()

    first = await accepted(services)
    again = await services.conversations.accept(message(1))
    stranger = await services.conversations.accept(message(2, to=STRANGER_NUMBER))

    assert first.message_id == message(1).provider_message_id
    assert (again.outcome, again.conversation) == (AcceptOutcome.DUPLICATE, first.conversation)
    assert (stranger.outcome, stranger.conversation) == (AcceptOutcome.UNKNOWN_TENANT, None)
    assert PERSON not in (first.conversation or "")  # a key, not the person's number


async def test_background_returns_the_work_and_answers_only_when_it_runs(world: World) -> None:
    work = await dispatched(await world.services("background"))

    assert work is not None
    assert (world.texts(), await world.queued()) == ([], 1)
    await work()
    assert (world.texts(), await world.queued()) == (["Echo: question 1"], 0)


async def test_background_work_that_fails_is_logged_and_the_sweeper_answers_later(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = await world.services("background")
    work = await dispatched(services)
    assert work is not None
    inbox, claim = world.stores.inbox, world.stores.inbox.claim

    async def fail_once(**options: Any) -> Sequence[QueuedInbound]:
        # The database fails as the work claims the message; the sweeper's claim works.
        monkeypatch.setattr(inbox, "claim", claim)
        raise StoreError("the database failed (OperationalError)")

    monkeypatch.setattr(inbox, "claim", fail_once)

    await work()  # does not raise: the web framework's background task has nobody to tell

    assert "stays queued" in caplog.text
    assert (world.texts(), await world.queued()) == ([], 1)
    sweeper = Sweeper(conversations=services.conversations, review=services.review, interval=1)
    assert await sweeper.sweep() is True
    assert world.texts() == ["Echo: question 1"]


async def test_inline_answers_before_returning_nothing(world: World) -> None:
    work = await dispatched(await world.services("inline"))

    assert work is None
    assert (world.texts(), await world.queued()) == (["Echo: question 1"], 0)


async def test_polling_answers_nothing_itself_and_wakes_the_listeners(world: World) -> None:
    services = await world.services("queue")
    woken: list[bool] = []

    async with wakeup_for(services.stores).listening(lambda: woken.append(True)):
        work = await dispatched(services)

    assert work is None
    assert woken == [True]
    assert (world.texts(), await world.queued()) == ([], 1)


async def test_a_worker_sweeper_sharing_the_process_answers_at_once_when_woken(
    world: World,
) -> None:
    web = await world.services("queue")
    worker = await world.services("background")  # another service set on the same stores
    sweeper = WatchedSweeper(
        conversations=worker.conversations,
        review=worker.review,
        interval=HOUR,
        wakeup=wakeup_for(worker.stores),
    )
    stop = asyncio.Event()
    running = asyncio.create_task(sweeper.run(stop))
    try:
        await asyncio.wait_for(
            sweeper.rest(), DEADLINE
        )  # the first pass found nothing: now it sleeps for an hour
        for n in (1, 2, 3):
            await dispatched(web, n)
            await world.replies(n)
            await asyncio.wait_for(sweeper.rest(), DEADLINE)
    finally:
        stop.set()
        await asyncio.wait_for(running, DEADLINE)
    assert world.texts() == [f"Echo: question {n}" for n in (1, 2, 3)]


async def test_a_sweeper_can_be_woken_from_another_thread(world: World) -> None:
    services = await world.services("queue")
    sweeper = WatchedSweeper(
        conversations=services.conversations, review=services.review, interval=HOUR
    )
    stop = asyncio.Event()
    running = asyncio.create_task(sweeper.run(stop))
    await asyncio.wait_for(sweeper.rest(), DEADLINE)
    await accepted(services)

    threading.Thread(target=sweeper.wake).start()

    try:
        await world.replies(1)
    finally:
        stop.set()
        await asyncio.wait_for(running, DEADLINE)
    assert world.texts() == ["Echo: question 1"]


async def test_a_local_wakeup_forgets_a_listener_once_its_block_ends() -> None:
    wakeup, woken = LocalWakeup(), []
    async with wakeup.listening(lambda: woken.append("inside")):
        await wakeup.notify("conversation-key")
    await wakeup.notify("conversation-key")

    assert woken == ["inside"]


async def test_stores_of_one_process_share_one_wakeup_and_others_do_not(world: World) -> None:
    services = await world.services("queue")

    assert wakeup_for(services.stores) is wakeup_for(world.stores)
    assert wakeup_for(InMemoryStores()) is not wakeup_for(world.stores)


async def test_a_processed_outcome_comes_back_from_the_conversation_service(
    world: World,
) -> None:
    services = await world.services("queue")
    result = await accepted(services)

    assert await services.conversations.process(result.message_id) is ProcessOutcome.REPLIED
