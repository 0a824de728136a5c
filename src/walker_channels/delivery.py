"""Delivery-status order: callbacks arrive out of order, and a status never goes backwards.

Outcomes of equal rank are alternatives: the first one recorded stays (a late ``delivered``
does not undo ``failed``). ``partially_delivered`` is progress short of an outcome, so any
final outcome still replaces it, and it never replaces one.
"""

from __future__ import annotations

from walker_channels.models import DeliveryStatus

_RANK = {
    DeliveryStatus.UNKNOWN: 0,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SCHEDULED: 1,
    DeliveryStatus.SENDING: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.PARTIALLY_DELIVERED: 4,
    DeliveryStatus.DELIVERED: 5,
    DeliveryStatus.UNDELIVERED: 5,
    DeliveryStatus.FAILED: 5,
    DeliveryStatus.CANCELED: 5,
    DeliveryStatus.READ: 6,
}


def delivery_rank(status: DeliveryStatus) -> int:
    """How far along ``status`` is; equal ranks are alternative outcomes."""
    return _RANK[status]


def delivery_advances(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    """Whether ``new`` moves a message on from ``current`` (``None``: no status yet)."""
    return current is None or delivery_rank(new) > delivery_rank(current)
