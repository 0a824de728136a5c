"""Delivery-status order: callbacks arrive out of order, and a status never goes backwards."""

from __future__ import annotations

from walker_channels.models import DeliveryStatus

_RANK = {
    DeliveryStatus.UNKNOWN: 0,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SCHEDULED: 1,
    DeliveryStatus.SENDING: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
    DeliveryStatus.CANCELED: 4,
    DeliveryStatus.READ: 5,
}


def delivery_rank(status: DeliveryStatus) -> int:
    """How far along ``status`` is; equal ranks are alternative outcomes."""
    return _RANK[status]


def delivery_advances(current: DeliveryStatus | None, new: DeliveryStatus) -> bool:
    """Whether ``new`` moves a message on from ``current`` (``None``: no status yet)."""
    return current is None or delivery_rank(new) > delivery_rank(current)
