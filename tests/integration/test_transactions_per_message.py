"""How many transactions answering a message takes through the SQL stores (issue 14): a
claim that reads what the turn needs, the reply's reservation, its settlement with its event,
and the completion that claims the conversation's next message. Counted, not timed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from db_urls import url_with_schema
from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.models import Address, Channel, InboundMessage
from walker_channels.services import ProcessOutcome
from walker_channels.sql import Database, SqlStores
from walker_channels.testing import RecordingTransport

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
async def services(
    database: tuple[str, str | None], transport: RecordingTransport
) -> AsyncIterator[Services]:
    url, schema = database
    settings = Settings(
        walker_database_url=url if schema is None else url_with_schema(url, schema),
        walker_pseudonym_key="count-key",
        walker_sweep_interval=0,
    )
    built = build_services(settings, agent=echo_agent(), whatsapp_transport=transport)
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


async def test_a_reply_takes_four_transactions(
    services: Services, transactions: list[bool]
) -> None:
    accepted = await services.conversations.accept(message("SM" + "1" * 32, "+14155550101"))
    assert len(transactions) == 1  # the accept
    transactions.clear()

    assert await services.conversations.process(accepted.message_id) is ProcessOutcome.REPLIED
    # claim (and the turn's reads), reserve, settle (and its event), complete (and the next
    # claim, which finds nothing)
    assert transactions == [True, True, True, True]


async def test_each_further_message_of_a_conversation_takes_three(
    services: Services, transactions: list[bool], transport: RecordingTransport
) -> None:
    person = "+14155550102"
    sids = [f"SM{n:032d}" for n in range(3)]
    for sid in sids:
        await services.conversations.accept(message(sid, person))
    transactions.clear()

    assert await services.conversations.process(sids[0]) is ProcessOutcome.REPLIED
    # the first claim, then per message: reserve, settle, complete with the next claim
    assert transactions == [True] * (1 + 3 * len(sids))
    assert [m.text for m in transport.sent] == ["Echo: When do you open?"] * len(sids)
