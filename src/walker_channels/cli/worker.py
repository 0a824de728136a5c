"""``walker-channels worker``: answer queued messages in a process of their own.

With ``WALKER_WEBHOOK_PROCESSING=queue`` the web processes only verify, store and answer
Twilio; one or more workers (same settings, same database) run the agents, send the replies
and expire overdue drafts. SIGINT or SIGTERM stops a worker once the batch it is answering
is done.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from walker_channels.exceptions import WalkerError

DEFAULT_BATCH = 32
DEFAULT_IDLE_SECONDS = 0.5


def register(subparsers: Any) -> None:
    """Add ``worker`` to the ``walker-channels`` command."""
    worker = subparsers.add_parser("worker", help="answer queued inbound messages")
    worker.add_argument(
        "--batch", type=_positive(int), default=DEFAULT_BATCH, help="messages claimed at a time"
    )
    worker.add_argument(
        "--idle",
        type=_positive(float),
        default=DEFAULT_IDLE_SECONDS,
        help="seconds to wait when the queue is empty",
    )
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    try:
        asyncio.run(run_worker(batch=args.batch, idle=args.idle))
    except WalkerError as exc:
        print(f"walker-channels worker: {exc}", file=sys.stderr)
        return 1
    return 0


async def run_worker(
    *, batch: int, idle: float, stop: asyncio.Event | None = None, **overrides: Any
) -> None:
    """Build the services from the environment and sweep until ``stop`` (or a signal).

    ``overrides`` go to :func:`~walker_channels.app.build_services` (an agent, a transport).
    """
    from walker_channels.app.build import build_services
    from walker_channels.app.settings import Settings
    from walker_channels.app.sweeper import Sweeper

    # The worker sweeps itself; the web processes' recovery loop is not needed here.
    services = build_services(Settings(walker_sweep_interval=0), **overrides)
    sweeper = Sweeper(
        conversations=services.conversations,
        review=services.review,
        interval=idle,
        batch=batch,
        privacy=services.privacy,
        sender=services.sender,
    )
    stop = stop or _stopped_by_signals()
    try:
        await services.start()
        await sweeper.run(stop)
    finally:
        await services.close()


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
