"""Twilio's other half, simulated: signed delivery-status callbacks after each accepted message.

Twilio reports a message's progress to its ``StatusCallback`` URL (``sent``, then
``delivered``), signed like any webhook. The demo does the same, so the delivery tracking of
the real endpoint runs and the admin log shows each step.
"""

from __future__ import annotations

import logging

import anyio
import httpx

from walker_channels.testing import TwilioSigner
from walker_channels.testing.simulated_twilio import SimulatedMessage, SimulatedTwilio

logger = logging.getLogger("walker_channels.demo")

DELIVERY_STEPS = ("sent", "delivered")


class DeliveryReporter:
    """Posts signed status callbacks for the simulator's messages, ``delay`` seconds apart."""

    def __init__(self, simulator: SimulatedTwilio, *, auth_token: str, delay: float = 0.3) -> None:
        self._simulator = simulator
        self._signer = TwilioSigner(auth_token)
        self._delay = delay
        self._client = httpx.AsyncClient(timeout=10.0)

    async def report(self, sid: str) -> None:
        """Move message ``sid`` through ``sent`` and ``delivered``, calling back at each step."""
        for status in DELIVERY_STEPS:
            await anyio.sleep(self._delay)
            message = self._simulator.set_status(sid, status)
            if message is None or message.status_callback is None:
                return
            await self._call_back(message, status)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def _call_back(self, message: SimulatedMessage, status: str) -> None:
        url = message.status_callback or ""
        params = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self._simulator.account_sid,
            "From": message.sender or "",
            "To": message.to,
            "ApiVersion": "2010-04-01",
        }
        headers, body = self._signer.form_request(url, params)
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            # Twilio, too, gives up on a callback that fails; the message itself was "delivered".
            logger.warning("status callback for %s failed: %s", message.sid, type(exc).__name__)
            return
        if response.status_code >= 400:
            logger.warning("status callback for %s answered %s", message.sid, response.status_code)
