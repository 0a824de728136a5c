"""The custom transport example passes the library's transport contract and maps errors."""

from __future__ import annotations

import httpx
import pytest
from custom_transport import TestVonageSmsTransport, VonageSmsTransport

from walker_channels.exceptions import ProviderError, TransportError
from walker_channels.models import Address, Channel, OutboundMessage

pytestmark = pytest.mark.anyio

__all__ = ["TestVonageSmsTransport"]  # collected here: the example's contract suite runs too

SMS = OutboundMessage(
    channel=Channel.SMS, to=Address(channel=Channel.SMS, value="+14155552671"), text="hi"
)


def vonage_answering(status: int, body: object) -> VonageSmsTransport:
    """The example transport against a Vonage that always gives this answer."""
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    )
    return VonageSmsTransport(client, api_key="key", api_secret="secret", sender="Acme")


def refusal(status: str) -> dict[str, object]:
    """Vonage's answer when it refuses a message with ``status``."""
    return {"message-count": "1", "messages": [{"status": status, "error-text": "refused"}]}


async def test_a_throttled_send_is_a_provider_error_worth_retrying() -> None:
    with pytest.raises(ProviderError) as caught:
        await vonage_answering(200, refusal("1")).send(SMS)
    assert caught.value.retryable
    assert caught.value.code == "1"


async def test_bad_credentials_are_a_provider_error_not_worth_retrying() -> None:
    with pytest.raises(ProviderError) as caught:
        await vonage_answering(200, refusal("4")).send(SMS)
    assert not caught.value.retryable


async def test_an_http_failure_is_a_retryable_transport_error() -> None:
    with pytest.raises(TransportError) as caught:
        await vonage_answering(503, {}).send(SMS)
    assert caught.value.retryable
    assert "+14155552671" not in str(caught.value)


async def test_the_number_goes_to_vonage_as_digits_only() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        part = {"status": "0", "message-id": "0A01"}
        return httpx.Response(200, json={"message-count": "1", "messages": [part]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        transport = VonageSmsTransport(client, api_key="k", api_secret="s", sender="Acme")
        result = await transport.send(SMS)

    assert result.provider_message_id == "0A01"
    assert b"to=14155552671" in seen[0].content
