"""How many transactions answering a message takes through the SQL stores (issue 14): a
claim that reads what the turn needs, the reply's reservation, and its settlement with its
event, the entry's removal and the claim of the conversation's next message. Counted, not
timed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db_urls import url_with_schema
from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.exceptions import StoreError
from walker_channels.models import Address, Channel, InboundMessage, OutboundState
from walker_channels.services import ProcessOutcome
from walker_channels.sql import Database, SqlStores, SqlTurnStore
from walker_channels.testing import FixedClock, RecordingTransport

pytestmark = pytest.mark.anyio
NUMBER = "+14155238886"


def message(sid: str, person: str) -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=sid,
        sender=Address(channel=Channel.WHATSAPP, value=person),
        recipient=Address(channel=Channel.WHATSAPP, value=NUMBER),
        text="When do you open?",
        received_at=datetime.now(UTC),
    )


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC))


@pytest.fixture
async def services(
    database: tuple[str, str | None], transport: RecordingTransport, clock: FixedClock
) -> AsyncIterator[Services]:
    url, schema = database
    settings = Settings(
        walker_database_url=url if schema is None else url_with_schema(url, schema),
        walker_pseudonym_key="count-key",
        walker_sweep_interval=0,
    )
    built = build_services(settings, agent=echo_agent(), whatsapp_transport=transport, clock=clock)
    await built.start()
    assert isinstance(built.stores, SqlStores)
    await built.stores.tenants.add_number("acme", f"whatsapp:{NUMBER}")
    yield built
    await built.close()


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every ``Database.run`` from here on: ``True`` for a write."""
    seen: list[bool] = []
    run: Callable[..., Awaitable[Any]] = Database.run

    async def counted(self: Database, work: Any, *, write: bool = False) -> Any:
        seen.append(write)
        return await run(self, work, write=write)

    monkeypatch.setattr(Database, "run", counted)
    return seen


async def test_a_reply_takes_three_transactions(
    services: Services, transactions: list[bool]
) -> None:
    accepted = await services.conversations.accept(message("SM" + "1" * 32, "+14155550101"))
    assert len(transactions) == 1  # the accept
    transactions.clear()

    assert await services.conversations.process(accepted.message_id) is ProcessOutcome.REPLIED
    # claim (and the turn's reads), reserve, settle (its event, the completion and the next
    # claim, which finds nothing)
    assert transactions == [True, True, True]


async def test_each_further_message_of_a_conversation_takes_two(
    services: Services, transactions: list[bool], transport: RecordingTransport
) -> None:
    person = "+14155550102"
    sids = [f"SM{n:032d}" for n in range(3)]
    for sid in sids:
        await services.conversations.accept(message(sid, person))
    transactions.clear()

    assert await services.conversations.process(sids[0]) is ProcessOutcome.REPLIED
    # the first claim, then per message: reserve, then settle with the next claim
    assert transactions == [True] * (1 + 2 * len(sids))
    assert [m.text for m in transport.sent] == ["Echo: When do you open?"] * len(sids)


async def test_a_failed_settlement_loses_nothing_and_sends_nothing_twice(
    services: Services,
    transport: RecordingTransport,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reply went out, then its settlement (with the completion) did not commit, as if
    the worker died there: the entry stays queued under its lease, and the run that takes it
    over finds the reply reserved, settles it and sends nothing again."""
    sid = "SM" + "2" * 32
    await services.conversations.accept(message(sid, "+14155550103"))
    settle_and_complete = SqlTurnStore.settle_and_complete

    async def lost(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("the database failed (OperationalError)")

    monkeypatch.setattr(SqlTurnStore, "settle_and_complete", lost)
    with pytest.raises(StoreError):
        await services.conversations.process(sid)
    assert len(transport.sent) == 1
    stores = services.stores
    assert isinstance(stores, SqlStores)
    assert (await stores.inbox.stats(now=clock.now())).in_progress == 1
    record = await stores.ledger.get("reply:" + sid)
    assert record is not None
    assert record.state is OutboundState.PENDING

    monkeypatch.setattr(SqlTurnStore, "settle_and_complete", settle_and_complete)
    clock.advance(timedelta(minutes=5))  # the lease ran out: another worker takes it over
    assert await services.conversations.process_pending() == [ProcessOutcome.ALREADY_HANDLED]
    assert len(transport.sent) == 1
    stats = await stores.inbox.stats(now=clock.now())
    assert (stats.waiting, stats.in_progress) == (0, 0)
    settled = await stores.ledger.get("reply:" + sid)
    assert settled is not None
    assert settled.state is not OutboundState.PENDING
