"""Twilio's ``MessageStatus`` vocabulary mapped to :class:`~walker_channels.DeliveryStatus`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from walker_channels.models import DeliveryStatus

MESSAGE_STATUSES: Mapping[str, DeliveryStatus] = MappingProxyType(
    {
        "queued": DeliveryStatus.QUEUED,
        "accepted": DeliveryStatus.ACCEPTED,
        "scheduled": DeliveryStatus.SCHEDULED,
        "sending": DeliveryStatus.SENDING,
        "sent": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "undelivered": DeliveryStatus.UNDELIVERED,
        "failed": DeliveryStatus.FAILED,
        "read": DeliveryStatus.READ,
        "canceled": DeliveryStatus.CANCELED,
        "partially_delivered": DeliveryStatus.PARTIALLY_DELIVERED,
        # Inbound states: UNKNOWN ranks lowest, so these never move an outbound record.
        "receiving": DeliveryStatus.UNKNOWN,
        "received": DeliveryStatus.UNKNOWN,
    }
)
"""Every value of Twilio's ``message_enum_status`` (OpenAPI spec of API 2010-04-01)."""


def delivery_status(value: str | None) -> DeliveryStatus:
    """The delivery status for a Twilio ``MessageStatus``/``status``; unknown values: UNKNOWN."""
    if value is None:
        return DeliveryStatus.UNKNOWN
    return MESSAGE_STATUSES.get(value.strip().lower(), DeliveryStatus.UNKNOWN)
