"""Failures are logged by class, code and frame, never by message (messages carry data)."""

from __future__ import annotations

import sqlite3

from walker_channels.exceptions import StoreError
from walker_channels.failures import failure_chain, failure_report

SECRET = "+14155552671 said: my password is hunter2"


def _raise_chained() -> None:
    try:
        raise sqlite3.IntegrityError(f"UNIQUE constraint failed: VALUES ('{SECRET}')")
    except sqlite3.IntegrityError as exc:
        raise StoreError(SECRET) from exc


def test_the_chain_names_classes_and_codes_but_no_message() -> None:
    try:
        _raise_chained()
    except StoreError as exc:
        chain, report = failure_chain(exc), failure_report(exc)
        causes = failure_chain(exc, include_self=False)

    assert chain == "walker_channels.exceptions.StoreError <- sqlite3.IntegrityError"
    assert causes == "sqlite3.IntegrityError"
    assert "_raise_chained" in report
    assert "14155552671" not in report
    assert "hunter2" not in report


def test_an_os_error_keeps_its_errno() -> None:
    assert failure_chain(ConnectionRefusedError(111, SECRET)).endswith(
        "ConnectionRefusedError (111)"
    )
