"""The webhook hands each accepted message to the services' dispatcher, behind both adapters.

Every built-in mode still answers as before (background after the response, inline before
it, queue by a worker that the web process wakes), a dispatcher passed in gets exactly the
accepted messages, and a dispatch that fails still gets Twilio its 200 while the sweeper
answers the message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import pytest
from test_webhooks import EMPTY_TWIML, UNKNOWN_NUMBER
from web_harness import PERSON, Harness, MakeApp, new_sid

from sweeping import WatchedSweeper
from walker_channels.app import Sweeper
from walker_channels.app.wakeup import wakeup_for
from walker_channels.exceptions import StoreError
from walker_channels.testing import RecordingDispatcher

DEADLINE = 20.0
"""Generous: without the wake-up the worker below would wait an hour."""
HOUR = 3600.0


def replies(app: Harness, count: int) -> list[str | None]:
    """The texts sent, once there are ``count`` of them (at most :data:`DEADLINE`)."""
    deadline = time.monotonic() + DEADLINE
    while len(app.whatsapp.sent) < count:
        assert time.monotonic() < deadline, f"{count} replies expected, {len(app.whatsapp.sent)}"
        time.sleep(0.02)
    return [message.text for message in app.whatsapp.sent]


def waiting(app: Harness) -> int:
    async def stats() -> int:
        return (await app.services.stores.inbox.stats(now=datetime.now(UTC))).waiting

    count = app.run(stats)
    assert isinstance(count, int)
    return count


@pytest.mark.parametrize("processing", ["background", "inline"])
def test_the_web_process_modes_answer_every_message_once(
    make_app: MakeApp, processing: str
) -> None:
    app = make_app(walker_webhook_processing=processing)

    for n in (1, 2):
        response = app.inbound(f"question {n}")
        assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    assert replies(app, 2) == ["Echo: question 1", "Echo: question 2"]
    assert waiting(app) == 0


def test_queue_mode_wakes_a_worker_of_the_same_process_at_once(make_app: MakeApp) -> None:
    app = make_app(walker_webhook_processing="queue")
    services = app.services
    worker = WatchedSweeper(
        conversations=services.conversations,
        review=services.review,
        interval=HOUR,
        wakeup=wakeup_for(services.stores),
    )
    app.run(worker.start)
    try:
        for n in (1, 2, 3):
            app.run(lambda: asyncio.wait_for(worker.rest(), DEADLINE))  # asleep for an hour
            assert app.inbound(f"question {n}").status_code == 200
            replies(app, n)
    finally:
        app.run(worker.stop)
    assert [m.text for m in app.whatsapp.sent] == [f"Echo: question {n}" for n in (1, 2, 3)]


def test_a_dispatcher_passed_in_gets_each_accepted_message_once(make_app: MakeApp) -> None:
    dispatcher = RecordingDispatcher()
    app = make_app(dispatcher=dispatcher, walker_sweep_interval=0)
    sid = new_sid()

    app.inbound("first", sid=sid)
    app.inbound("first", sid=sid)  # Twilio delivers it again
    app.inbound("second")
    app.inbound("nobody's", to=UNKNOWN_NUMBER)

    [(first, key), (second, same_key)] = dispatcher.dispatched
    assert first == sid
    assert second != sid
    assert key == same_key  # one person, one conversation
    assert PERSON.removeprefix("+") not in key
    assert app.whatsapp.sent == []  # this dispatcher hands over; it does not answer
    assert waiting(app) == 2  # both stay queued for whoever the dispatcher told


def test_a_dispatch_that_fails_still_gets_200_and_the_sweeper_answers(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = RecordingDispatcher()
    dispatcher.fail_with(StoreError("the broker is unreachable"))
    app = make_app(dispatcher=dispatcher, walker_sweep_interval=0)
    caplog.set_level(logging.ERROR, logger="walker_channels.web.webhooks")

    response = app.inbound("my private question")

    assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    assert (app.whatsapp.sent, waiting(app)) == ([], 1)
    [record] = caplog.records
    assert "stays queued" in record.getMessage()
    assert "my private question" not in record.getMessage()
    assert PERSON not in record.getMessage()
    sweeper = Sweeper(
        conversations=app.services.conversations, review=app.services.review, interval=1
    )
    assert app.run(sweeper.sweep) is True
    assert [m.text for m in app.whatsapp.sent] == ["Echo: my private question"]
    assert waiting(app) == 0
