"""TwilioTransport passes the MessageTransport contract, over real HTTP to a loopback server.

The Twilio-like server is the test kit's (:mod:`walker_channels.testing.twilio_server`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from walker_channels.models import Address, Channel, OutboundMessage
from walker_channels.testing.contracts import MessageTransportContract
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN, TwilioLikeServer
from walker_channels.twilio import TwilioConfig, TwilioTransport


@pytest.fixture
async def server() -> AsyncIterator[TwilioLikeServer]:
    async with TwilioLikeServer() as running:
        yield running


@pytest.mark.parametrize("channel", [Channel.WHATSAPP, Channel.SMS])
class TestTwilioTransport(MessageTransportContract):
    @pytest.fixture
    async def transport(
        self, server: TwilioLikeServer, channel: Channel, twilio_http_client: str
    ) -> AsyncIterator[TwilioTransport]:
        config = TwilioConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            api_base_url=server.base_url,
            channel=channel,
            sender="+14155550100",
            http_client=twilio_http_client,
        )
        async with TwilioTransport(config) as transport:
            yield transport

    @pytest.fixture
    def message(self, channel: Channel) -> OutboundMessage:
        to = Address(channel=channel, value="+14155552671")
        return OutboundMessage(channel=channel, to=to, text="Hello from the contract")
