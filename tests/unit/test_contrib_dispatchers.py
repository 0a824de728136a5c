"""The Celery and taskiq dispatchers in one process: Celery's eager mode, taskiq's in-memory
broker (the real brokers and worker processes are in tests/integration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.models import Address, Channel, InboundMessage
from walker_channels.services import AcceptOutcome
from walker_channels.testing import InMemoryStores, RecordingTransport

celery = pytest.importorskip("celery", reason="needs the celery extra")
taskiq = pytest.importorskip("taskiq", reason="needs the taskiq extra")

from walker_channels.contrib import celery as contrib_celery  # noqa: E402 - after the skip
from walker_channels.contrib import taskiq as contrib_taskiq  # noqa: E402

pytestmark = pytest.mark.anyio

NUMBER, PERSON = "+14155238886", "+14155552671"
SID = "SM" + "c" * 32


class Deployment:
    """The web side's services and the worker side's, on one set of in-memory stores."""

    def __init__(self) -> None:
        self.stores = InMemoryStores()
        self.sent = RecordingTransport(Channel.WHATSAPP)
        self.workers: list[Services] = []

    def services(self) -> Services:
        settings = Settings(walker_pseudonym_key="contrib-test-key", walker_sweep_interval=0)
        return build_services(
            settings, stores=self.stores, agent=echo_agent(), whatsapp_transport=self.sent
        )

    def worker_services(self) -> Services:
        services = self.services()
        self.workers.append(services)
        return services

    async def accept(self) -> str:
        """Accept one message as a webhook would; its conversation key."""
        await self.stores.tenants.add_number("acme", f"whatsapp:{NUMBER}")
        message = InboundMessage(
            channel=Channel.WHATSAPP,
            sender=Address(channel=Channel.WHATSAPP, value=PERSON),
            recipient=Address(channel=Channel.WHATSAPP, value=NUMBER),
            text="hello",
            provider_message_id=SID,
            received_at=datetime.now(UTC),
        )
        accepted = await self.services().conversations.accept(message)
        assert accepted.outcome is AcceptOutcome.ACCEPTED
        assert accepted.conversation is not None
        return accepted.conversation


@pytest.fixture
def deployment() -> Deployment:
    return Deployment()


@pytest.fixture
async def taskiq_broker(deployment: Deployment) -> AsyncIterator[contrib_taskiq.TaskiqDispatcher]:
    broker = taskiq.InMemoryBroker(await_inplace=True)
    dispatcher = contrib_taskiq.install(broker, deployment.worker_services)
    await broker.startup()  # in memory, the worker's start-up runs here
    try:
        yield dispatcher
    finally:
        await broker.shutdown()


async def test_a_taskiq_worker_answers_a_dispatched_message_once(
    deployment: Deployment, taskiq_broker: contrib_taskiq.TaskiqDispatcher
) -> None:
    conversation = await deployment.accept()

    assert await taskiq_broker.dispatch(SID, conversation=conversation) is None
    await taskiq_broker.dispatch(SID, conversation=conversation)  # a duplicate task

    assert [message.text for message in deployment.sent.sent] == ["Echo: hello"]


async def test_taskiq_workers_start_their_services_at_start_up_and_close_them_at_shutdown(
    deployment: Deployment,
) -> None:
    broker = taskiq.InMemoryBroker(await_inplace=True)
    contrib_taskiq.install(broker, deployment.worker_services)

    await broker.startup()
    [worker] = deployment.workers
    await broker.shutdown()

    assert worker.closed


@pytest.fixture
def eager_celery(deployment: Deployment) -> contrib_celery.CeleryDispatcher:
    """A Celery app that runs each task where it is sent (as the solo pool would run it)."""
    app = celery.Celery("contrib-test", broker="memory://")
    app.conf.task_always_eager = True
    return contrib_celery.install(app, deployment.worker_services, name=f"test.{id(app)}")


async def test_a_celery_task_answers_the_message_on_the_process_loop_once(
    deployment: Deployment, eager_celery: contrib_celery.CeleryDispatcher
) -> None:
    conversation = await deployment.accept()

    await eager_celery.dispatch(SID, conversation=conversation)
    await eager_celery.dispatch(SID, conversation=conversation)  # a duplicate task
    celery.signals.worker_process_shutdown.send(sender=None)  # the worker process ends

    assert [message.text for message in deployment.sent.sent] == ["Echo: hello"]
    [worker] = deployment.workers  # one loop, one set of services, for both tasks
    assert worker.closed


def test_the_celery_task_is_acknowledged_late_and_requeued_if_its_worker_dies(
    eager_celery: contrib_celery.CeleryDispatcher,
) -> None:
    task = eager_celery.task

    assert (task.acks_late, task.reject_on_worker_lost, task.ignore_result) == (True, True, True)
