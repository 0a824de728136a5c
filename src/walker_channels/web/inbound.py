"""What every inbound webhook does with a parsed message: accept it once, then dispatch it."""

from __future__ import annotations

import logging

from walker_channels.failures import failure_report
from walker_channels.models import InboundMessage
from walker_channels.ports import AfterResponse, Dispatcher
from walker_channels.services import AcceptOutcome, ConversationService

logger = logging.getLogger("walker_channels.web.webhooks")


async def accept_and_dispatch(
    message: InboundMessage, conversations: ConversationService, dispatcher: Dispatcher
) -> AfterResponse | None:
    """Accept ``message`` and hand it to ``dispatcher``; the work to run after the answer.

    A failing dispatch is logged, not raised: the message is queued already, and the sweeper
    answers it once its lease runs out. Refusing now would only make the provider send it again.
    """
    accepted = await conversations.accept(message)
    if accepted.outcome is not AcceptOutcome.ACCEPTED or accepted.conversation is None:
        return None
    try:
        return await dispatcher.dispatch(accepted.message_id, conversation=accepted.conversation)
    except Exception as exc:
        logger.error(
            "dispatching message %s failed; it stays queued: %s",
            accepted.message_id,
            failure_report(exc),
        )
        return None
