"""``walker-channels worker``: answer queued messages in a process of their own.

With ``WALKER_WEBHOOK_PROCESSING=queue`` the web processes only verify, store and answer
Twilio; one or more workers (same settings, same database) run the agents, send the replies
and expire overdue drafts. SIGINT or SIGTERM stops a worker once the batch it is answering
is done. ``--app package.module:factory`` runs the host's own services (its agent, stores and
transports) instead of those built from the environment; ``WALKER_WORKER_CONCURRENCY`` (or
``--batch``) bounds how many messages one worker answers at once.

On PostgreSQL a worker ``LISTEN``s for the wake-up the web processes ``NOTIFY`` when they
accept a message, and sweeps at once; ``--idle`` is then only the safety net. On SQLite the
workers of other processes are not woken: they find new messages every ``--idle`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING, Any

from walker_channels.cli.host_app import BadApp, build_from, load_factory
from walker_channels.exceptions import WalkerError

if TYPE_CHECKING:
    from walker_channels.app.runtime import Services

DEFAULT_BATCH = 32
"""The default of ``WALKER_WORKER_CONCURRENCY``."""
DEFAULT_IDLE_SECONDS = 0.5


def register(subparsers: Any) -> None:
    """Add ``worker`` to the ``walker-channels`` command."""
    worker = subparsers.add_parser("worker", help="answer queued inbound messages")
    worker.add_argument(
        "--batch",
        type=_positive(int),
        default=None,
        help="messages answered at once (default: WALKER_WORKER_CONCURRENCY)",
    )
    worker.add_argument(
        "--idle",
        type=_positive(float),
        default=DEFAULT_IDLE_SECONDS,
        help="seconds to wait when the queue is empty and no wake-up came",
    )
    worker.add_argument(
        "--app",
        metavar="MODULE:FACTORY",
        default=None,
        help="the host's services factory (returns Services, or an awaitable of them)",
    )
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    try:
        asyncio.run(run_worker(batch=args.batch, idle=args.idle, app=args.app))
    except BadApp as exc:
        print(f"walker-channels worker: {exc}", file=sys.stderr)
        return 2
    except WalkerError as exc:
        print(f"walker-channels worker: {exc}", file=sys.stderr)
        return 1
    return 0


async def run_worker(
    *,
    batch: int | None,
    idle: float,
    stop: asyncio.Event | None = None,
    app: str | None = None,
    **overrides: Any,
) -> None:
    """Build the services and sweep until ``stop`` (or a signal).

    ``app`` (``package.module:factory``) builds them with the host's factory; otherwise
    they are built from the environment, and ``overrides`` go to
    :func:`~walker_channels.app.build_services` (an agent, a transport). ``batch``: messages
    answered at once; ``None`` reads ``WALKER_WORKER_CONCURRENCY``.
    """
    from walker_channels.app.settings import Settings
    from walker_channels.app.sweeper import Sweeper
    from walker_channels.app.wakeup import wakeup_for
    from walker_channels.ports import RollupSource

    # The worker sweeps itself; the web processes' recovery loop is not needed here.
    settings = Settings(walker_sweep_interval=0)
    batch = batch or settings.walker_worker_concurrency
    services = await _services(settings, app, overrides)
    stores = services.stores
    sweeper = Sweeper(
        conversations=services.conversations,
        review=services.review,
        interval=idle,
        batch=batch,
        privacy=services.privacy,
        sender=services.sender,
        handoff=services.handoff,
        wakeup=wakeup_for(stores),
        rollups=stores.rollups if isinstance(stores, RollupSource) else None,
    )
    stop = stop or _stopped_by_signals()
    try:
        await services.start()
        await sweeper.run(stop)
    finally:
        await services.close()


async def _services(settings: Any, app: str | None, overrides: dict[str, Any]) -> Services:
    if app is None:
        from walker_channels.app.build import build_services

        return build_services(settings, **overrides)
    if overrides:
        raise TypeError("pass either app= or build_services overrides, not both")
    return await build_from(load_factory(app))


def _stopped_by_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    return stop


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value

    return parse
