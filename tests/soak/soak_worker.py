"""The soak test's worker: ``walker-channels worker``'s loop with the echo agent.

The CLI builds its agent from the Langflow settings only, so this module calls the same
:func:`~walker_channels.cli.worker.run_worker` with the echo agent passed in. Run it with the
web processes' environment (``WALKER_WEBHOOK_PROCESSING=queue``)::

    python tests/soak/soak_worker.py
"""

from __future__ import annotations

import asyncio

from walker_channels.agents import echo_agent
from walker_channels.cli.worker import DEFAULT_BATCH, run_worker

IDLE_SECONDS = 0.2

if __name__ == "__main__":
    agent = echo_agent(confidence=0.9)
    asyncio.run(run_worker(batch=DEFAULT_BATCH, idle=IDLE_SECONDS, agent=agent))
