"""Idempotency keys of events and approvals: each is keyed by what caused it.

A key derived from its cause (the inbound message, the approval, the provider's message id) is
the same every time the cause is handled again, so a retry or a second worker finds the key
taken and does not record twice. Send keys are derived by
:meth:`walker_channels.services.SendPurpose.key`. Keys never contain addresses or message text.
"""

from __future__ import annotations

import hashlib
from datetime import datetime


def hashed(text: str) -> str:
    """A short digest of free text (a caller's key may hold a phone number or an address)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def inbound_key(message_id: str) -> str:
    """The inbound event of the provider message ``message_id`` (Twilio's MessageSid)."""
    return f"inbound:{message_id}"


def approval_id_for(tenant_id: str, message_id: str) -> str:
    """The id of the one approval a message can cause, so a re-run finds it instead of a twin."""
    return hashed(f"{tenant_id}:{message_id}")


def outbound_event_key(ledger_key: str) -> str:
    """The one sent or failed event of the send reserved under ``ledger_key``."""
    return f"outbound:{ledger_key}"


def outbound_failed_event_key(ledger_key: str, attempt_at: datetime) -> str:
    """One failed attempt of the send reserved under ``ledger_key``.

    A send the provider refused may be tried again under its key, so each failed attempt has
    an event of its own, and the one sent event still gets :func:`outbound_event_key`.
    """
    return f"outbound-failed:{ledger_key}:{attempt_at.isoformat()}"


def escalated_event_key(approval_id: str) -> str:
    """The escalation event of an approval."""
    return f"escalated:{approval_id}"


def decision_event_key(decision: str, approval_id: str) -> str:
    """The approved, rejected or expired event of an approval."""
    return f"{decision}:{approval_id}"


def delivery_event_key(provider_message_id: str, status: str) -> str:
    """The event of one delivery status of one provider message."""
    return f"delivery:{provider_message_id}:{status}"


def handoff_event_key(kind: str, conversation_id: str, at: datetime) -> str:
    """The handoff event ``kind`` (started, ended) of a conversation's mode switch at ``at``."""
    return f"handoff-{kind}:{conversation_id}:{at.isoformat()}"


def human_reply_event_key(send_key: str) -> str:
    """The one human-reply event of the send reserved under ``send_key``."""
    return f"human-reply:{send_key}"


def reply_part_cause(message_id: str, part: int) -> str:
    """The cause of part ``part`` (from 1) of the reply to ``message_id``; part 1 is the message."""
    return message_id if part == 1 else f"{message_id}:part{part}"
