"""Erasure and retention: one person's data removed on request, old message text purged."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import uuid4

from pydantic import Field

from walker_channels.models.base import AwareDatetime, Frozen


def _new_id() -> str:
    return uuid4().hex


class ErasureRequest(Frozen):
    """Remove everything stored about one person of one tenant (``PrivacyStore.erase``)."""

    id: str = Field(default_factory=_new_id)
    tenant_id: str = Field(min_length=1)
    participant: str = Field(min_length=1)
    """The person's keyed pseudonym: the key of their events, drafts and sends."""
    address: str = Field(min_length=1, repr=False)
    """Their raw number or email address: the key of queued messages and tenant numbers."""
    requested_by: str = Field(min_length=1)
    at: AwareDatetime


class ErasureRecord(Frozen):
    """That an erasure was done: by whom, when, how many rows went. Holds the pseudonym only."""

    id: str
    tenant_id: str
    participant: str
    """The pseudonym of the person erased (never the number)."""
    requested_by: str
    erased_at: AwareDatetime
    removed: Mapping[str, int] = Field(default_factory=dict)
    """Rows removed, by table name without its ``walker_`` prefix (``events``, ...)."""


class RetentionReport(Frozen):
    """One pass of the retention purge (``PrivacyStore.purge_text``)."""

    events: int = Field(default=0, ge=0)
    """Events whose message text was removed."""
    approvals: int = Field(default=0, ge=0)
    """Decided drafts whose text and recipient were removed."""
    sends: int = Field(default=0, ge=0)
    """Unsettled sends whose kept message (number and text) was removed: they stay as they are."""
    complete: bool = True
    """``False`` when the pass stopped at its limit: more is due, call again."""
