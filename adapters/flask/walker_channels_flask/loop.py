"""The event loop the core runs on in one process: started on first use, in every process.

A pre-forking server (gunicorn ``--preload``, uWSGI) imports the app in its master and then
forks workers. Threads do not survive ``fork()``, so a loop started in the master would be
gone in each worker, and every call handed to it would wait for ever. So nothing starts in
``init_app``: each process starts its own loop (an anyio blocking portal in a thread) and the
services on it at its first request (or :meth:`ProcessLoop.call`), and a loop that another
process started is never used. After-response work is started on the loop and not waited for,
so a sync worker is free for its next request while the agent thinks.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from typing import TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from walker_channels.app import Services
from walker_channels.exceptions import ConfigurationError

logger = logging.getLogger("walker_channels.flask")
T = TypeVar("T")

_LOOPS: weakref.WeakSet[ProcessLoop] = weakref.WeakSet()
_FORK_HOOK: list[bool] = []  # registered once, by the first loop


class ProcessLoop:
    """One process's event loop for ``services``: started lazily, closed once.

    ``drain_timeout`` bounds how long :meth:`close` waits for after-response work still
    running; what is left then is cancelled (its message stays queued, and a sweeper or worker
    answers it once the lease runs out).
    """

    def __init__(self, services: Services, *, drain_timeout: float) -> None:
        self._services = services
        self._drain_timeout = drain_timeout
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._portal: BlockingPortal | None = None
        self._resources: ExitStack | None = None
        self._failure: BaseException | None = None
        self._pending: set[concurrent.futures.Future[None]] = set()
        self._closed = False
        _LOOPS.add(self)
        if not _FORK_HOOK:
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _FORK_HOOK.append(True)

    def portal(self) -> BlockingPortal:
        """This process's portal, started (with the services) on first use."""
        portal = self._portal
        if portal is not None and self._pid == os.getpid():
            return portal
        with self._lock:
            return self._start()

    def call(self, func: Callable[..., Awaitable[T]], *args: object) -> T:
        """Run ``func(*args)`` on the loop and wait for its result."""
        return self.portal().call(func, *args)

    def spawn(self, work: Callable[[], Awaitable[None]]) -> None:
        """Start ``work`` on the loop and return at once; it is waited for at :meth:`close`."""
        future = self.portal().start_task_soon(work)
        self._pending.add(future)
        future.add_done_callback(self._finished)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the work spawned so far has finished; ``False`` if ``timeout`` ran out."""
        _, running = concurrent.futures.wait(list(self._pending), timeout)
        return not running

    def close(self) -> None:
        """Finish (within ``drain_timeout``) the spawned work, close the services and stop the
        loop, if this process started them; a second call does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            resources, self._resources = self._resources, None
            if resources is None or self._pid != os.getpid():
                return  # never started here: another process owns what was started
        if not self.wait_idle(self._drain_timeout):
            logger.warning("after-response work still running at shutdown was cancelled")
            for future in list(self._pending):
                future.cancel()
        resources.close()

    def _start(self) -> BlockingPortal:
        pid = os.getpid()
        if self._portal is not None and self._pid == pid:
            return self._portal
        if self._closed:
            raise ConfigurationError("walker-channels was shut down in this process")
        if self._failure is not None:
            raise self._failure
        if self._pid is not None:
            raise ConfigurationError(
                f"walker-channels was started in process {self._pid} before it forked this "
                "one: start nothing before the server forks (no requests, no "
                "WalkerChannels.call at import); each process starts its own at first use"
            )
        resources = ExitStack()
        portal = resources.enter_context(start_blocking_portal("asyncio"))
        # Registered after the portal, so it runs first: the services close on their own loop.
        resources.callback(portal.call, self._services.close)
        try:
            portal.call(self._services.start)
        except BaseException as exc:
            resources.close()  # the services are closed: this process cannot serve them
            self._failure = exc
            raise
        self._pid, self._portal, self._resources = pid, portal, resources
        return portal

    def _finished(self, future: concurrent.futures.Future[None]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and (error := future.exception()) is not None:
            logger.error("after-response work failed", exc_info=error)

    def _forked(self) -> None:
        # The parent's threads, and any lock one of them held, do not exist in the child.
        self._lock = threading.Lock()
        self._pending = set()


def _after_fork_in_child() -> None:
    for loop in list(_LOOPS):
        loop._forked()
