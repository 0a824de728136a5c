"""A FastAPI app whose webhooks are answered by the host's taskiq workers.

The web process verifies and accepts each webhook and sends the message's id to taskiq; any
number of workers answer. Both share the database (the inbox is the record) and the broker:
RabbitMQ (``amqp://``, through aio-pika) or Redis (``redis://``, a stream, so that a task a
dead worker held is delivered again). From the repository's root::

    export WALKER_PSEUDONYM_KEY=... TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=...
    export TWILIO_WHATSAPP_FROM=whatsapp:+14155238886 WALKER_PUBLIC_URL=https://your.host
    export WALKER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/walker
    export TASKIQ_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/   # the default; or redis://...
    uvicorn examples.taskiq_app:app                     # the web process
    taskiq worker examples.taskiq_app:broker            # the workers (--workers N processes)

``TASKIQ_QUEUE`` (default ``walker-channels``) is the queue (or Redis stream) the tasks go to.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from examples.task_engine_host import web_app, worker_services
from fastapi import FastAPI
from taskiq import AsyncBroker
from taskiq_aio_pika import AioPikaBroker, Queue
from taskiq_redis import RedisStreamBroker

from walker_channels.contrib.taskiq import install

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"


def make_broker(url: str, queue: str) -> AsyncBroker:
    """A RabbitMQ broker for ``amqp://`` URLs, a Redis stream one for ``redis://`` URLs."""
    if url.startswith(("redis://", "rediss://")):
        return RedisStreamBroker(url, queue_name=queue)
    return AioPikaBroker(url, task_queues=[Queue(name=queue)])


broker = make_broker(
    os.environ.get("TASKIQ_BROKER_URL", DEFAULT_BROKER_URL),
    os.environ.get("TASKIQ_QUEUE", "walker-channels"),
)
# Each worker process builds its services with worker_services() when it starts.
dispatcher = install(broker, worker_services)


@asynccontextmanager
async def broker_started(_: FastAPI) -> AsyncIterator[None]:
    """The web process's broker connection, as taskiq asks of every client."""
    await broker.startup()
    try:
        yield
    finally:
        await broker.shutdown()


@cache
def create_app() -> FastAPI:
    """The web app (built once): webhooks accepted here are answered by the workers."""
    return web_app(dispatcher, lifespan=broker_started)


def __getattr__(name: str) -> FastAPI:
    # ``app`` is built when uvicorn asks for it: the workers import this module too, and
    # never build the web app.
    if name == "app":
        return create_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
