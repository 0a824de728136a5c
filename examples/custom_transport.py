"""A transport of your own: SMS through Vonage's SMS API, checked by the library's contract suite.

A transport is any object with a ``channel`` and an async ``send`` (the
:class:`~walker_channels.ports.MessageTransport` port); it inherits nothing. Provider errors
are translated into the library's exceptions, saying whether a retry can help. The
contract suite at the bottom is what every transport must pass; run it with::

    python examples/custom_transport.py        # or: pytest examples/custom_transport.py

Then use it: ``build_services(settings, whatsapp_transport=...)`` for WhatsApp, or pass your
transports to :class:`~walker_channels.services.OutboundSender` for other channels.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest

from walker_channels.exceptions import ProviderError, TransportError
from walker_channels.models import Address, Channel, DeliveryStatus, OutboundMessage, SendResult
from walker_channels.testing.contracts import MessageTransportContract

VONAGE_SMS_URL = "https://rest.nexmo.com/sms/json"
RETRYABLE_STATUSES = frozenset({"1", "5"})
"""Vonage's "throttled" and "internal error": sending again later can help."""


class VonageSmsTransport:
    """Sends SMS with Vonage (https://developer.vonage.com/en/messaging/sms/overview)."""

    def __init__(
        self, client: httpx.AsyncClient, *, api_key: str, api_secret: str, sender: str
    ) -> None:
        self._client = client
        self._auth = httpx.BasicAuth(api_key, api_secret)
        self._sender = sender

    @property
    def channel(self) -> Channel:
        """This transport sends SMS."""
        return Channel.SMS

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message``'s text; raise the library's errors for Vonage's refusals."""
        form = {
            "from": self._sender,
            "to": message.to.value.removeprefix("+"),  # Vonage wants digits only
            "text": message.text or "",
        }
        try:
            response = await self._client.post(VONAGE_SMS_URL, data=form, auth=self._auth)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise TransportError(f"Vonage failed ({type(exc).__name__})", retryable=True) from exc
        part = response.json()["messages"][0]
        status = str(part.get("status"))
        if status != "0":
            raise ProviderError(
                f"Vonage refused the SMS (status {status})",
                retryable=status in RETRYABLE_STATUSES,
                code=status,
            )
        return SendResult(
            channel=Channel.SMS,
            provider_message_id=part["message-id"],
            status=DeliveryStatus.ACCEPTED,
        )


def fake_vonage() -> httpx.MockTransport:
    """Vonage's answers, for the tests: status 0 and a fresh message id per request."""
    ids = itertools.count(1)

    def answer(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        part = {"to": form["to"][0], "message-id": f"0A{next(ids):014X}", "status": "0"}
        return httpx.Response(200, json={"message-count": "1", "messages": [part]})

    return httpx.MockTransport(answer)


class TestVonageSmsTransport(MessageTransportContract):
    """Every behaviour the library expects of a transport, inherited from the contract suite."""

    @pytest.fixture
    async def transport(self) -> AsyncIterator[VonageSmsTransport]:
        async with httpx.AsyncClient(transport=fake_vonage()) as client:
            yield VonageSmsTransport(client, api_key="key", api_secret="secret", sender="Acme")

    @pytest.fixture
    def message(self) -> OutboundMessage:
        to = Address(channel=Channel.SMS, value="+14155552671")
        return OutboundMessage(channel=Channel.SMS, to=to, text="Your order has shipped.")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
