"""The background dispatcher: answer the message after the response is sent (the default)."""

from __future__ import annotations

from walker_channels.dispatch.processing import process_logged
from walker_channels.ports import AfterResponse
from walker_channels.services import ConversationService


class BackgroundDispatcher:
    """Returns the message's processing as after-response work (the web framework's background
    tasks run it): the provider is answered at once, the agent runs in the web process.

    If the process dies first, the message stays queued and the sweeper answers it.
    """

    def __init__(self, conversations: ConversationService) -> None:
        self._conversations = conversations

    async def dispatch(self, message_id: str, *, conversation: str) -> AfterResponse | None:
        """The work that answers ``message_id``, to run after the response."""

        async def work() -> None:
            await process_logged(self._conversations, message_id)

        return work
