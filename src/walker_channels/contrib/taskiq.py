"""Answer messages on the host's taskiq workers (the ``taskiq`` extra).

:func:`install` registers the async task that answers one message on the host's own taskiq
broker (RabbitMQ through ``taskiq-aio-pika``, Redis through ``taskiq-redis``, or any other),
and returns the dispatcher the web process builds its services with::

    broker = AioPikaBroker("amqp://guest:guest@127.0.0.1:5672/")
    dispatcher = install(broker, worker_services)  # worker_services() -> Services
    services = build_services(settings, dispatcher=dispatcher)  # the web process

``taskiq worker acme.tasks:broker`` then answers every message the web processes accept. Each
worker process builds its services at ``WORKER_STARTUP`` (on the worker's own event loop) and
closes them at ``WORKER_SHUTDOWN``; their sweeper runs on that loop, so the workers also finish
what a lost task left behind (``WALKER_SWEEP_INTERVAL``, once the message's
``WALKER_PROCESSING_LEASE`` ran out). The web process starts and shuts down the broker itself,
as taskiq asks of every client (``await broker.startup()`` in the app's lifespan).

taskiq acknowledges a task once it ran (its default ``when_saved``): with a broker that
redelivers unacknowledged tasks (RabbitMQ, Redis streams) a worker killed while answering has
its task delivered again.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from walker_channels.contrib import answer_message
from walker_channels.exceptions import ConfigurationError, MissingDependency

try:
    from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, TaskiqEvents, TaskiqState
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
    if exc.name != "taskiq":
        raise
    raise MissingDependency("walker_channels.contrib.taskiq", "taskiq") from exc

if TYPE_CHECKING:
    from walker_channels.app import Services
    from walker_channels.ports import AfterResponse


DEFAULT_TASK_NAME = "walker_channels.process_message"
"""The task's name, unless :func:`install` is given another."""

ServicesFactory = Callable[[], "Services"]
"""Builds a worker's services (``build_services(...)``); called on the worker's loop."""
ProcessTask = AsyncTaskiqDecoratedTask[[str, str], Coroutine[Any, Any, str]]
"""The registered task: ``(message_id, conversation) -> outcome``."""


class TaskiqDispatcher:
    """Sends each accepted message to the taskiq task :attr:`task` (its id and conversation)."""

    def __init__(self, task: ProcessTask) -> None:
        self.task = task
        """The registered task (``task.task_name`` is what the workers run)."""

    async def dispatch(self, message_id: str, *, conversation: str) -> AfterResponse | None:
        """Send the task (a broker error is raised: the message stays queued, and the
        workers' sweeper answers it)."""
        await self.task.kiq(message_id, conversation)
        return None


def install(
    broker: AsyncBroker, services: ServicesFactory, *, name: str = DEFAULT_TASK_NAME
) -> TaskiqDispatcher:
    """Register the task answering one message on ``broker``; return the web side's dispatcher.

    ``services`` builds the services of each worker process (the host's agent, stores and
    transports, as its web process has them); it is called only in worker processes.
    """
    worker = _Worker(services)
    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, worker.start)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, worker.close)

    async def process_message(message_id: str, conversation: str) -> str:
        # The conversation key rides along for the host's routing and monitoring.
        return await worker.answer(message_id)

    # A function of its own: taskiq renames what it registers, which a bound method refuses.
    return TaskiqDispatcher(broker.register_task(process_message, task_name=name))


class _Worker:
    """The services of one worker process, from its start-up to its shutdown."""

    def __init__(self, factory: ServicesFactory) -> None:
        self._factory = factory
        self._services: Services | None = None

    async def start(self, _: TaskiqState) -> None:
        services = self._factory()
        try:
            await services.start()
        except BaseException:
            await services.close()
            raise
        self._services = services

    async def close(self, _: TaskiqState) -> None:
        services, self._services = self._services, None
        if services is not None:
            await services.close()

    async def answer(self, message_id: str) -> str:
        if self._services is None:
            raise ConfigurationError(
                "walker-channels' task ran outside a started taskiq worker (WORKER_STARTUP)"
            )
        return await answer_message(self._services.conversations, message_id)
