"""Process one accepted message and log (never raise) a failure: it stays queued."""

from __future__ import annotations

import logging

from walker_channels.failures import failure_report
from walker_channels.services import ConversationService, ProcessOutcome

logger = logging.getLogger("walker_channels.dispatch")


async def process_logged(
    conversations: ConversationService, message_id: str
) -> ProcessOutcome | None:
    """``conversations.process(message_id)``; ``None`` (logged) when it failed.

    A failure leaves the message queued under its lease: the sweeper finishes it once the
    lease runs out, so there is nothing for the caller to do.
    """
    try:
        return await conversations.process(message_id)
    except Exception as exc:
        logger.error(
            "processing message %s failed; it stays queued: %s", message_id, failure_report(exc)
        )
        return None
