"""Idempotency keys: each outbound message and event is keyed by what caused it.

A key derived from its cause (the inbound message, the approval, the caller's own key) is the
same every time the cause is handled again, so a retry or a second worker finds the key taken
and does not send or record twice. Keys never contain addresses or message text.
"""

from __future__ import annotations

import hashlib


def inbound_key(message_id: str) -> str:
    """The inbound event of the provider message ``message_id`` (Twilio's MessageSid)."""
    return f"inbound:{message_id}"


def reply_key(message_id: str) -> str:
    """The agent's reply to ``message_id``."""
    return f"reply:{message_id}"


def holding_key(message_id: str) -> str:
    """The holding message sent while a draft for ``message_id`` waits for review."""
    return f"holding:{message_id}"


def notice_key(message_id: str) -> str:
    """The notice answering ``message_id`` sent to a number no tenant owns."""
    return f"notice:{message_id}"


def approval_key(approval_id: str) -> str:
    """The reply a reviewer approved."""
    return f"approval:{approval_id}"


def rejection_fallback_key(approval_id: str) -> str:
    """The fallback message sent when a reviewer rejects a draft."""
    return f"fallback:{approval_id}"


def expiry_fallback_key(approval_id: str) -> str:
    """The fallback message sent when a draft expires unreviewed."""
    return f"expiry:{approval_id}"


def proactive_key(tenant_id: str, caller_key: str) -> str:
    """A proactive send, keyed per tenant by the caller's own key.

    The caller's key is hashed: it is free text and might hold a phone number, and ledger keys
    end up in events, logs and status-callback URLs.
    """
    digest = hashlib.sha256(caller_key.encode()).hexdigest()[:32]
    return f"proactive:{tenant_id}:{digest}"


def approval_id_for(tenant_id: str, message_id: str) -> str:
    """The id of the one approval a message can cause, so a re-run finds it instead of a twin."""
    return hashlib.sha256(f"{tenant_id}:{message_id}".encode()).hexdigest()[:32]


def outbound_event_key(ledger_key: str) -> str:
    """The one sent or failed event of the send reserved under ``ledger_key``."""
    return f"outbound:{ledger_key}"


def escalated_event_key(approval_id: str) -> str:
    """The escalation event of an approval."""
    return f"escalated:{approval_id}"


def decision_event_key(decision: str, approval_id: str) -> str:
    """The approved, rejected or expired event of an approval."""
    return f"{decision}:{approval_id}"


def delivery_event_key(provider_message_id: str, status: str) -> str:
    """The event of one delivery status of one provider message."""
    return f"delivery:{provider_message_id}:{status}"
