"""Bursts: the messages a person sent while the agent was busy, answered as one turn."""

from __future__ import annotations

from collections.abc import Sequence

from walker_channels.models import QueuedInbound


def merged_turn(lead: QueuedInbound, joined: Sequence[QueuedInbound]) -> QueuedInbound:
    """``lead`` carrying its whole burst: the texts one per line, every media item, and each
    structured part (location, button, ...) from the latest message that has it; its
    sentiment is the lowest score among them.

    The turn keeps ``lead``'s id, so its reply, holding message and draft are keyed as before.
    """
    if not joined:
        return lead
    messages = [lead.message, *(item.message for item in joined)]
    parts: dict[str, object] = {}
    for message in messages:
        parts.update((name, value) for name, value in message.structured_parts().items() if value)
    scores = [message.sentiment for message in messages if message.sentiment is not None]
    merged = lead.message.replace(
        text="\n".join(message.text for message in messages if message.text),
        media=tuple(item for message in messages for item in message.media),
        # The burst reads as upset as its most upset message: one angry line is enough.
        sentiment=min(scores, default=None),
        **parts,
    )
    turn: QueuedInbound = lead.replace(message=merged)
    return turn
