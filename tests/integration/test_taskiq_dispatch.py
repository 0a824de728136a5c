"""The taskiq example as deployed: its web app accepts, two taskiq workers answer.

``uvicorn examples.taskiq_app:app`` and two ``taskiq worker examples.taskiq_app:broker``
processes share a PostgreSQL schema and a broker (RabbitMQ through aio-pika, or a Redis
stream), and answer through the Twilio-like server. Every webhook arrives twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
from engine_processes import (
    SEND_LATENCY,
    Process,
    answered_once_after_a_kill,
    answered_once_in_order,
    environment,
    until_logged,
    until_serving,
    web,
)

from db_urls import url_with_schema
from walker_channels.testing import TwilioLikeServer

pytestmark = pytest.mark.anyio

pytest.importorskip("taskiq_aio_pika", reason="the taskiq tests need the taskiq extra")

WORKER = ["-m", "taskiq", "worker", "examples.taskiq_app:broker", "--workers", "1"]
# Tasks at once per worker: about what its database pool serves (SQLAlchemy: 5, and 10 more).
TASKS_AT_ONCE = ["--max-async-tasks", "8"]
BROKERS = ["rabbitmq", "redis"]


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioLikeServer]:
    async with TwilioLikeServer(latency=SEND_LATENCY) as server:
        yield server


@pytest.fixture(params=BROKERS)
async def deployment_env(
    request: pytest.FixtureRequest,
    postgres_url: str,
    fresh_pg_schema: str,
    twilio: TwilioLikeServer,
) -> AsyncIterator[dict[str, str]]:
    """The settings of every process, with a queue (or stream) of this test's own."""
    broker_url = request.getfixturevalue(f"{request.param}_url")
    queue = f"walker-test-{uuid4().hex[:12]}"
    database = url_with_schema(postgres_url, fresh_pg_schema)
    yield environment(database, twilio.base_url, TASKIQ_BROKER_URL=broker_url, TASKIQ_QUEUE=queue)
    await _delete_queue(request.param, broker_url, queue)


async def _delete_queue(broker: str, url: str, queue: str) -> None:
    if broker == "redis":
        from redis.asyncio import Redis

        async with Redis.from_url(url) as client:
            await client.delete(queue)
        return
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


async def start(env: dict[str, str], tmp_path: Path, processes: list[Process]) -> str:
    """The web process and two workers, up; the web process's URL."""
    server, url = web("taskiq_app", env, tmp_path)
    processes.append(server)
    for n in range(2):
        args = [*WORKER, *TASKS_AT_ONCE, "--log-level", "INFO"]
        processes.append(Process(f"worker{n}", args, env, tmp_path))
    # All at once, as a deployment starts: their migrations queue for one lock.
    await until_serving(server, url)
    for worker in processes[1:]:
        await until_logged(worker, "Listening started.")
    return url


async def test_two_workers_answer_every_message_once_in_each_conversations_order(
    deployment_env: dict[str, str], twilio: TwilioLikeServer, tmp_path: Path
) -> None:
    await answered_once_in_order(
        start, deployment_env, twilio, tmp_path, "3", worked="Executing task"
    )


async def test_a_worker_killed_mid_burst_loses_no_message_and_answers_none_twice(
    deployment_env: dict[str, str], twilio: TwilioLikeServer, tmp_path: Path
) -> None:
    await answered_once_after_a_kill(start, deployment_env, twilio, tmp_path, "4")
