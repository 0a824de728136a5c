"""``walker-channels worker --app module:factory``: the worker runs the host's own services.

The web process accepts queue-mode messages into a SQLite file; the worker, a subprocess
started with ``--app worker_host_app:factory`` (found through ``PYTHONPATH``), answers them
with the host's echo agent and transport.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_worker_command import PSEUDONYM_KEY, accept_as_the_web_process

HERE = Path(__file__).parent
COMMAND = "from walker_channels.cli import main; raise SystemExit(main())"
COUNT = 5
DEADLINE_SECONDS = 30.0


def worker_environment(database: Path, sent: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "WALKER_DATABASE_URL": f"sqlite:///{database}",
        "WALKER_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "WALKER_WORKER_CONCURRENCY": "2",
        "WALKER_SWEEP_INTERVAL": "0",
        "WORKER_TEST_SENT": str(sent),
    }


def start_worker(app: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-c", COMMAND, "worker", "--idle", "0.05", "--app", app]
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE)  # noqa: S603


def sent_lines(sent: Path) -> list[str]:
    return sent.read_text(encoding="utf-8").splitlines() if sent.exists() else []


def test_the_worker_answers_queued_messages_with_the_hosts_factory(tmp_path: Path) -> None:
    database, sent = tmp_path / "walker.db", tmp_path / "sent.txt"
    asyncio.run(accept_as_the_web_process(database, count=COUNT))
    worker = start_worker("worker_host_app:factory", worker_environment(database, sent))
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(sent_lines(sent)) < COUNT and worker.poll() is None:
            assert time.monotonic() < deadline, "the worker did not answer every message"
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=DEADLINE_SECONDS) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
    assert sorted(sent_lines(sent)) == [f"Echo: question {n}" for n in range(COUNT)]


@pytest.mark.parametrize(
    ("app", "says"),
    [
        ("worker_host_app", "package.module:factory"),
        ("no_such_module:factory", "cannot import 'no_such_module'"),
        ("worker_host_app:missing", "no callable 'missing'"),
        ("worker_host_app:not_services", "returned str, not Services"),
    ],
)
def test_a_bad_app_is_refused_with_a_clear_error_and_exit_code_2(
    tmp_path: Path, app: str, says: str
) -> None:
    env = worker_environment(tmp_path / "walker.db", tmp_path / "sent.txt")
    worker = start_worker(app, env)
    _, stderr = worker.communicate(timeout=DEADLINE_SECONDS)
    assert worker.returncode == 2
    assert says in stderr.decode()
