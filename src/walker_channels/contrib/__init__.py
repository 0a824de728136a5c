"""Dispatchers that run the agent work on the host's own task engine.

- :mod:`walker_channels.contrib.celery` (the ``celery`` extra): a task on the host's Celery app.
- :mod:`walker_channels.contrib.taskiq` (the ``taskiq`` extra): a task on the host's taskiq
  broker.

Each web process hands an accepted message to the engine as a task holding the message's id
and its conversation key (never its text, nor a phone number); a worker of the engine claims
the message from the SQL inbox and answers it. The inbox stays the record: a duplicate task is
harmless (the claim answers ``NOT_CLAIMED``), and the workers' sweeper answers what a lost task
left behind once its lease runs out.
"""

from __future__ import annotations

from walker_channels.dispatch.processing import process_logged
from walker_channels.services import ConversationService


async def answer_message(conversations: ConversationService, message_id: str) -> str:
    """Answer the queued message ``message_id``: the body of every engine's task.

    Returns the :class:`~walker_channels.services.ProcessOutcome` value (``not_claimed`` for a
    duplicate task, or one whose message another worker holds), or ``failed``: a failure is
    logged, not raised, since the message stays queued and the sweeper answers it once its
    lease runs out; the engine has nothing to retry.
    """
    outcome = await process_logged(conversations, message_id)
    return "failed" if outcome is None else outcome.value
