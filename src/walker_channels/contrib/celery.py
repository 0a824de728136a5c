"""Answer messages on the host's Celery workers (the ``celery`` extra).

:func:`install` registers the task that answers one message on the host's own Celery app, and
returns the dispatcher the web process builds its services with::

    celery = Celery("acme", broker="redis://127.0.0.1:6379/0")
    dispatcher = install(celery, worker_services)  # worker_services() -> Services
    services = build_services(settings, dispatcher=dispatcher)  # the web process

``celery -A acme.tasks:celery worker`` then answers every message the web processes accept.
Each worker process (each prefork child) keeps one event loop for the library, in a thread of
its own: it is started, with the services ``worker_services()`` builds, when the process
starts (``worker_process_init``; other pools start it at their first task), and closed when
the process ends. The services' own sweeper runs on that loop, so the workers also finish what
a lost task left behind (``WALKER_SWEEP_INTERVAL``, once the message's
``WALKER_PROCESSING_LEASE`` ran out).

The task is acknowledged late (``acks_late``, ``reject_on_worker_lost``): a worker killed
while answering a message has its task delivered again (an immediate duplicate answers
``not_claimed`` while the dead worker's lease holds, and the sweeper answers it after).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from anyio.from_thread import BlockingPortal, start_blocking_portal

from walker_channels.contrib import answer_message
from walker_channels.exceptions import MissingDependency
from walker_channels.failures import failure_report

try:
    from celery import signals
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
    if exc.name != "celery":
        raise
    raise MissingDependency("walker_channels.contrib.celery", "celery") from exc

if TYPE_CHECKING:
    from celery import Celery

    from walker_channels.app import Services
    from walker_channels.ports import AfterResponse

logger = logging.getLogger("walker_channels.contrib.celery")

DEFAULT_TASK_NAME = "walker_channels.process_message"
"""The task's name, unless :func:`install` is given another."""
SHUTDOWN_SECONDS = 30.0
"""How long a worker process waits for its services to close when it ends."""

ServicesFactory = Callable[[], "Services"]
"""Builds a worker's services (``build_services(...)``); called on the worker's own loop."""


class CeleryDispatcher:
    """Sends each accepted message to the Celery task :attr:`task` (its id and conversation)."""

    def __init__(self, task: Any) -> None:
        self.task = task
        """The registered Celery task (``task.name`` is what the workers run)."""

    async def dispatch(self, message_id: str, *, conversation: str) -> AfterResponse | None:
        """Publish the task (a broker error is raised: the message stays queued, and the
        workers' sweeper answers it)."""
        publish = partial(self.task.apply_async, (message_id, conversation))
        # kombu publishes synchronously: off the loop, so the webhook's loop keeps serving.
        await anyio.to_thread.run_sync(publish)
        return None


def install(
    app: Celery,
    services: ServicesFactory,
    *,
    name: str = DEFAULT_TASK_NAME,
) -> CeleryDispatcher:
    """Register the task answering one message on ``app``; return the web side's dispatcher.

    ``services`` builds the services of each worker process (the host's agent, stores and
    transports, as its web process has them); it is called only in worker processes. ``name``
    is the task's name: route it to a queue of its own with Celery's ``task_routes``.
    """
    loop = _WorkerLoop(services)

    def process_message(message_id: str, conversation: str) -> str:
        # The conversation key rides along for the host's routing and monitoring (Flower).
        return loop.run(message_id)

    task = app.task(
        name=name,
        acks_late=True,
        reject_on_worker_lost=True,
        ignore_result=True,
    )(process_message)
    # weak=False: Celery's signals keep weak references, and these closures have no other.
    signals.worker_process_init.connect(_ignoring_arguments(loop.start), weak=False)
    signals.worker_process_shutdown.connect(_ignoring_arguments(loop.close), weak=False)
    signals.worker_shutdown.connect(_ignoring_arguments(loop.close), weak=False)  # solo, threads
    return CeleryDispatcher(task)


class _WorkerLoop:
    """One worker process's event loop (a thread of its own) and the services on it.

    Started in the process that runs tasks, never before it forks: a loop, its thread and
    its database connections would not survive into the children. A loop another process
    started is never used.
    """

    def __init__(self, factory: ServicesFactory) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._resources = ExitStack()
        self._current: tuple[BlockingPortal, concurrent.futures.Future[Services]] | None = None

    def start(self) -> None:
        """Start the loop, and the services on it, in this process (once).

        Returns without waiting for the services: Celery kills a child whose
        ``worker_process_init`` takes longer than a few seconds, and a start runs migrations.
        """
        self._running()

    def run(self, message_id: str) -> str:
        """Answer one message on the loop (starting it first in a pool that did not)."""
        portal, started = self._running()
        services = started.result()  # waits for the start; raises its failure
        return portal.call(answer_message, services.conversations, message_id)

    def close(self) -> None:
        """Close the services and stop the loop, if this process started them."""
        with self._lock:
            running, self._current = self._current, None
            if running is None or self._pid != os.getpid():
                return
        portal, started = running
        try:
            # A start that failed closed its services already (and told every task why).
            if started.exception(timeout=SHUTDOWN_SECONDS) is None:
                portal.call(started.result().close)
        except Exception as exc:
            logger.error("closing the worker's services failed: %s", failure_report(exc))
        finally:
            self._resources.close()

    def _running(self) -> tuple[BlockingPortal, concurrent.futures.Future[Services]]:
        with self._lock:
            if self._current is not None and self._pid == os.getpid():
                return self._current
            self._resources = ExitStack()
            portal = self._resources.enter_context(start_blocking_portal("asyncio"))
            self._current = (portal, portal.start_task_soon(self._started))
            self._pid = os.getpid()
            return self._current

    async def _started(self) -> Services:
        services = self._factory()
        try:
            await services.start()
        except BaseException:
            await services.close()
            raise
        return services


def _ignoring_arguments(action: Callable[[], None]) -> Callable[..., None]:
    """A signal receiver running ``action`` (Celery passes a sender and keyword arguments)."""

    def receiver(*_: object, **__: object) -> None:
        action()

    return receiver
