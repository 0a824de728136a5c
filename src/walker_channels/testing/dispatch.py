"""A recording :class:`~walker_channels.ports.Dispatcher`: what the web layer hands over."""

from __future__ import annotations

from walker_channels.ports import AfterResponse


class RecordingDispatcher:
    """A :class:`~walker_channels.ports.Dispatcher` that records each hand-over and answers
    nothing (a sweeper does). ``fail_with`` makes the next dispatches raise, in order."""

    def __init__(self) -> None:
        self.dispatched: list[tuple[str, str]] = []
        """``(message_id, conversation)`` of each dispatch, in order."""
        self.failures: list[BaseException] = []

    def fail_with(self, *errors: BaseException) -> None:
        """Make the next ``len(errors)`` dispatches raise these, in order."""
        self.failures.extend(errors)

    async def dispatch(self, message_id: str, *, conversation: str) -> AfterResponse | None:
        """Record the hand-over (or raise the next queued failure)."""
        if self.failures:
            raise self.failures.pop(0)
        self.dispatched.append((message_id, conversation))
        return None
