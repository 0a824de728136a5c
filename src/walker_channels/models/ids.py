"""Ids derived from what they name, the same in every process: the conversation id."""

from __future__ import annotations

import hashlib

from walker_channels.models.messages import Channel


def conversation_id_for(tenant_id: str, channel: Channel | str, participant: str) -> str:
    """The id of a participant's (pseudonym's) conversation with a tenant on a channel.

    A digest, stable and safe to show (it holds no address). The messages of one conversation
    are processed one at a time, and handoff, the log and the review queue name it.
    """
    name = channel.value if isinstance(channel, Channel) else channel
    return hashlib.sha256(f"{tenant_id}\x1f{name}\x1f{participant}".encode()).hexdigest()[:32]
