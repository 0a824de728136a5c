"""The :class:`~walker_channels.ports.MessageTransport` contract."""

from __future__ import annotations

import asyncio

import pytest

from walker_channels.models import DeliveryStatus, OutboundMessage, SendResult
from walker_channels.ports import MessageTransport


@pytest.mark.anyio
class MessageTransportContract:
    """Provide ``transport`` and a ``message`` it can send (for its channel)."""

    @pytest.fixture
    def transport(self) -> MessageTransport:
        """Override: the MessageTransport under test."""
        raise NotImplementedError

    @pytest.fixture
    def message(self) -> OutboundMessage:
        """Override: a valid message for the transport's channel."""
        raise NotImplementedError

    async def test_the_transport_sends_on_the_message_channel(
        self, transport: MessageTransport, message: OutboundMessage
    ) -> None:
        assert transport.channel is message.channel

    async def test_a_send_reports_a_provider_id(
        self, transport: MessageTransport, message: OutboundMessage
    ) -> None:
        result = await transport.send(message)
        assert isinstance(result, SendResult)
        assert result.channel is message.channel
        assert result.provider_message_id
        assert result.status is not DeliveryStatus.FAILED

    async def test_concurrent_sends_are_distinct(
        self, transport: MessageTransport, message: OutboundMessage
    ) -> None:
        results = await asyncio.gather(*(transport.send(message) for _ in range(10)))
        assert len({r.provider_message_id for r in results}) == 10
