"""The Flask extension across ``fork()`` (what gunicorn ``--preload`` and uWSGI do): a child
starts its own event loop at its first request; a loop the parent started is never used in the
child, which answers with the reason instead of hanging."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import flask
import httpx
from test_flask_extension import post_inbound
from web_harness import BASE_URL, build_test_services

from walker_channels.exceptions import ConfigurationError
from walker_channels.web import admin_scope
from walker_channels_flask import WalkerChannels
from walker_channels_flask.testing import SettledTransport

HANG = 30.0
"""Seconds after which a child that has not finished is taken as hung."""


def _in_child(work: Callable[[], bool]) -> int:
    """Run ``work`` in a forked child; its exit code (0: ``work`` returned True), or -1 if it
    did not finish within :data:`HANG` seconds (it is killed)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            code = 0 if work() else 1
        except BaseException:
            code = 2
        os._exit(code)
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -1


def _app(tmp_path: Path) -> tuple[flask.Flask, list[object]]:
    services, whatsapp, _ = build_test_services(tmp_path / "walker.db")
    app = flask.Flask(__name__)
    WalkerChannels(services).init_app(app)
    return app, whatsapp.sent  # type: ignore[return-value]


def test_a_child_forked_before_any_request_starts_its_own_loop_and_answers(
    tmp_path: Path,
) -> None:
    app, sent = _app(tmp_path)

    def serve_in_child() -> bool:
        with httpx.Client(transport=SettledTransport(app), base_url=BASE_URL) as client:
            answered = post_inbound(client).status_code == 200
        WalkerChannels.shutdown(app)
        return answered and len(sent) == 1

    assert _in_child(serve_in_child) == 0
    assert sent == []  # the parent started nothing and sent nothing


def test_a_loop_started_before_fork_is_refused_in_the_child_instead_of_hanging(
    tmp_path: Path,
) -> None:
    app, _ = _app(tmp_path)
    WalkerChannels.call(app, WalkerChannels.services_of(app).review.queue, admin_scope(None))

    def request_in_child() -> bool:
        transport = httpx.WSGITransport(app=app)
        with httpx.Client(transport=transport, base_url=BASE_URL) as client:
            response = post_inbound(client)  # a 500 (the reason is logged), not a hang
        try:
            WalkerChannels.call(app, WalkerChannels.services_of(app).review.queue, None)
        except ConfigurationError as exc:
            return response.status_code == 500 and "before it forked" in str(exc)
        return False

    try:
        assert _in_child(request_in_child) == 0
    finally:
        WalkerChannels.shutdown(app)
