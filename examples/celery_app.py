"""A FastAPI app whose webhooks are answered by the host's Celery workers.

The web process verifies and accepts each webhook and sends the message's id to Celery; any
number of workers, on any number of machines, answer. Both share the database (the inbox is
the record) and the broker. From the repository's root::

    export WALKER_PSEUDONYM_KEY=... TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=...
    export TWILIO_WHATSAPP_FROM=whatsapp:+14155238886 WALKER_PUBLIC_URL=https://your.host
    export WALKER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/walker
    export CELERY_BROKER_URL=redis://127.0.0.1:6379/0   # the default (amqp:// works too)
    uvicorn examples.celery_app:app                 # the web process
    celery -A examples.celery_app:celery worker     # the workers (as many as you like)

``:celery`` names the Celery app: without it Celery would take the module's ``app``, which is
the web app. ``CELERY_QUEUE`` (default ``walker-channels``) is the queue the tasks go to.
"""

from __future__ import annotations

import os
from functools import cache

from celery import Celery
from examples.task_engine_host import web_app, worker_services
from fastapi import FastAPI

from walker_channels.contrib.celery import install

celery = Celery("acme", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))
celery.conf.task_default_queue = os.environ.get("CELERY_QUEUE", "walker-channels")
# Each worker process builds its services with worker_services() when it starts.
dispatcher = install(celery, worker_services)


@cache
def create_app() -> FastAPI:
    """The web app (built once): webhooks accepted here are answered by the workers."""
    return web_app(dispatcher)


def __getattr__(name: str) -> FastAPI:
    # ``app`` is built when uvicorn asks for it: the workers import this module too, and
    # never build the web app.
    if name == "app":
        return create_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
