"""The inline dispatcher: answer the message before the response is sent."""

from __future__ import annotations

from walker_channels.dispatch.processing import process_logged
from walker_channels.ports import AfterResponse
from walker_channels.services import ConversationService


class InlineDispatcher:
    """Processes the message before returning: simple to reason about, but the provider waits
    for the agent (Twilio gives up after 15 s; the message is still answered then)."""

    def __init__(self, conversations: ConversationService) -> None:
        self._conversations = conversations

    async def dispatch(self, message_id: str, *, conversation: str) -> AfterResponse | None:
        """Answer ``message_id`` now; a failure is logged and left to the sweeper."""
        await process_logged(self._conversations, message_id)
        return None
