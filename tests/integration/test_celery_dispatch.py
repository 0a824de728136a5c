"""The Celery example as deployed: its web app accepts, two Celery workers answer.

``uvicorn examples.celery_app:app`` and two ``celery -A examples.celery_app:celery worker``
processes (prefork, two children each) share a PostgreSQL schema and a Redis broker, and
answer through the Twilio-like server. Every webhook arrives twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import redis
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

pytest.importorskip("celery", reason="the Celery tests need the celery extra")

WORKER = ["-m", "celery", "-A", "examples.celery_app:celery", "worker", "--concurrency", "2"]
# Other tests' workers may share the broker: no talking to them (and a faster start).
QUIET = ["--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel", "INFO"]


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioLikeServer]:
    async with TwilioLikeServer(latency=SEND_LATENCY) as server:
        yield server


@pytest.fixture
def deployment_env(
    postgres_url: str, fresh_pg_schema: str, redis_url: str, twilio: TwilioLikeServer
) -> Iterator[dict[str, str]]:
    """The settings of every process, with a Celery queue of this test's own."""
    queue = f"walker-test-{uuid4().hex[:12]}"
    database = url_with_schema(postgres_url, fresh_pg_schema)
    yield environment(database, twilio.base_url, CELERY_BROKER_URL=redis_url, CELERY_QUEUE=queue)
    with redis.Redis.from_url(redis_url) as client:
        client.delete(queue)


async def start(env: dict[str, str], tmp_path: Path, processes: list[Process]) -> str:
    """The web process and two workers, up; the web process's URL."""
    server, url = web("celery_app", env, tmp_path)
    processes.append(server)
    for n in range(2):
        node = f"--hostname=w{n}-{uuid4().hex[:8]}@%h"
        processes.append(Process(f"worker{n}", [*WORKER, *QUIET, node], env, tmp_path))
    # All at once, as a deployment starts: their migrations queue for one lock.
    await until_serving(server, url)
    for worker in processes[1:]:
        await until_logged(worker, " ready.")
    return url


async def test_two_workers_answer_every_message_once_in_each_conversations_order(
    deployment_env: dict[str, str], twilio: TwilioLikeServer, tmp_path: Path
) -> None:
    await answered_once_in_order(start, deployment_env, twilio, tmp_path, "1", worked="succeeded")


async def test_a_worker_killed_mid_burst_loses_no_message_and_answers_none_twice(
    deployment_env: dict[str, str], twilio: TwilioLikeServer, tmp_path: Path
) -> None:
    await answered_once_after_a_kill(start, deployment_env, twilio, tmp_path, "2")
