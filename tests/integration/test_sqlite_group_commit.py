"""SQLite's one writer per process: writes queued meanwhile share a transaction (group commit),
each in its own savepoint, and each caller is answered only once its batch committed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import Pool

from walker_channels.exceptions import StoreError
from walker_channels.sql.engine import Database, create_engine

pytestmark = pytest.mark.anyio
rows = sa.table("rows", sa.column("n", sa.Integer))
WAIT = 10.0  # seconds a gate waits at most: a hung writer fails the test instead of blocking


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(create_engine(f"sqlite:///{tmp_path / 'writes.db'}"))
    await database.run(_schema, write=True)
    # The writer runs its first ANALYZE after answering that write: one write more returns
    # only once it is over, so no test counts its COMMIT.
    await database.run(lambda _conn: None, write=True)
    yield database
    await database.dispose()


def _schema(conn: sa.Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    conn.exec_driver_sql("CREATE TABLE rows (n INTEGER PRIMARY KEY)")
    conn.exec_driver_sql(
        "CREATE TABLE children (parent INTEGER REFERENCES parents (id) "
        "DEFERRABLE INITIALLY DEFERRED)"
    )


def insert(n: int, *, then: Callable[[], Any] = lambda: None) -> Callable[[sa.Connection], int]:
    """A write inserting row ``n``, then calling ``then`` (which may block or raise)."""

    def work(conn: sa.Connection) -> int:
        conn.execute(rows.insert().values(n=n))
        then()
        return n

    return work


def blocked(gate: threading.Event, entered: threading.Event | None = None) -> Callable[[], None]:
    def wait() -> None:
        if entered is not None:
            entered.set()
        assert gate.wait(WAIT), "the test never opened the gate"

    return wait


async def stored(db: Database) -> set[int]:
    return set(await db.run(lambda conn: conn.execute(sa.select(rows.c.n)).scalars().all()))


async def queued_behind_a_gate(
    db: Database, *writes: Callable[[sa.Connection], Any]
) -> tuple[threading.Event, list[asyncio.Task[Any]]]:
    """``writes`` queued while the writer is held inside another write (row 0)."""
    gate, entered = threading.Event(), threading.Event()
    first = asyncio.ensure_future(db.run(insert(0, then=blocked(gate, entered)), write=True))
    assert await asyncio.to_thread(entered.wait, WAIT)
    tasks = [first] + [asyncio.ensure_future(db.run(w, write=True)) for w in writes]
    await asyncio.sleep(0)  # each task runs up to its await: its write is queued
    return gate, tasks


class Commits:
    """Counts the COMMITs of every engine while in use."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> Commits:
        sa.event.listen(sa.Engine, "commit", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(sa.Engine, "commit", self._seen)

    def _seen(self, _conn: sa.Connection) -> None:
        self.count += 1


async def test_writes_queued_meanwhile_share_one_transaction(db: Database) -> None:
    with Commits() as commits:
        gate, tasks = await queued_behind_a_gate(db, *(insert(n) for n in range(1, 21)))
        gate.set()
        assert await asyncio.gather(*tasks) == list(range(21))
    assert commits.count == 2  # the gate's own write, then the twenty queued behind it
    assert await stored(db) == set(range(21))


async def test_a_failing_write_rolls_back_alone(db: Database) -> None:
    def fail() -> None:
        raise ValueError("this write fails after its insert")

    gate, tasks = await queued_behind_a_gate(db, insert(1), insert(2, then=fail), insert(3))
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[:2] == [0, 1]
    assert isinstance(results[2], ValueError)
    assert results[3] == 3
    assert await stored(db) == {0, 1, 3}


async def test_a_caller_is_answered_only_after_its_batch_committed(db: Database) -> None:
    second_gate, entered = threading.Event(), threading.Event()
    gate, (first, early, late) = await queued_behind_a_gate(
        db, insert(1), insert(2, then=blocked(second_gate, entered))
    )
    gate.set()
    assert await first == 0
    assert await asyncio.to_thread(entered.wait, WAIT)  # row 1 written, its batch still open
    await asyncio.sleep(0.01)
    assert not early.done()
    assert await stored(db) == {0}  # what is not committed, no one else sees
    second_gate.set()
    assert (await early, await late) == (1, 2)
    assert await stored(db) == {0, 1, 2}


async def test_a_cancelled_caller_whose_write_had_not_started_writes_nothing(
    db: Database,
) -> None:
    gate, (first, cancelled, kept) = await queued_behind_a_gate(db, insert(1), insert(2))
    cancelled.cancel()
    gate.set()
    assert (await first, await kept) == (0, 2)
    assert cancelled.cancelled()
    assert await stored(db) == {0, 2}


async def test_a_failed_commit_fails_every_write_of_its_batch_and_the_writer_goes_on(
    db: Database,
) -> None:
    def orphan(conn: sa.Connection) -> None:
        # A deferred foreign key: the statement passes, the COMMIT fails.
        conn.exec_driver_sql("INSERT INTO children (parent) VALUES (42)")

    gate, (first, *batch) = await queued_behind_a_gate(db, insert(1), orphan, insert(3))
    gate.set()
    assert await first == 0
    results = await asyncio.gather(*batch, return_exceptions=True)
    assert all(isinstance(result, StoreError) for result in results)
    assert await db.run(insert(4), write=True) == 4
    assert await stored(db) == {0, 4}


async def test_a_lone_failing_write_rolls_back_and_keeps_the_connection(db: Database) -> None:
    def fail() -> None:
        raise ValueError("this write fails after its insert")

    opened: list[object] = []

    def count(dbapi_connection: object, _record: object) -> None:
        opened.append(dbapi_connection)

    sa.event.listen(Pool, "connect", count)
    try:
        for n in range(5):
            with pytest.raises(ValueError, match="fails after its insert"):
                await db.run(insert(n, then=fail), write=True)
        assert await db.run(insert(9), write=True) == 9
    finally:
        sa.event.remove(Pool, "connect", count)
    assert await stored(db) == {9}
    assert opened == []  # the writer's connection served every one of them
