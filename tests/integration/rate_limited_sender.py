"""One sending process of the shared rate limit tests: ``COUNT`` sends to the Twilio-like
server. Once imported it creates ``GO.ready-<pid>`` and waits for ``GO`` to exist, so the
processes start together.

    python rate_limited_sender.py MODE API_BASE_URL KEY COUNT GO [REDIS_URL]

``sender`` mode: through the Twilio transport, all from the messaging service ``KEY``, held
to ``TWILIO_RATE_PER_SENDER``-style pacing. ``tenant`` mode: through the outbound sender for
the tenant ``KEY`` (from a messaging service of this process's own, so only the per-tenant
limit holds them back). Without ``REDIS_URL`` the process holds the limit on its own (the
in-process pacer).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from uuid import uuid4

from walker_channels.clock import SystemClock
from walker_channels.models import Address, Channel, OutboundMessage
from walker_channels.services import OutboundSender, SendContext, SendPurpose, ServiceConfig
from walker_channels.testing import InMemoryOutboundLedger
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from walker_channels.twilio import TwilioConfig, TwilioTransport
from walker_channels.twilio.pacing import TENANT_NAMESPACE, pacer_for

RATE = 1.0
"""Sends per second from one sender (``sender`` mode)."""
TENANT_RATE = 2.0
"""Sends per second from one tenant (``tenant`` mode)."""
TO = Address(channel=Channel.SMS, value="+14155552671")


def _config(base_url: str, service: str, *, rate: float | None, redis: str | None) -> TwilioConfig:
    return TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        channel=Channel.SMS,
        api_base_url=base_url,
        messaging_service_sid=service,
        rate_per_sender=rate,
        rate_limit_storage=redis if rate is not None else None,
    )


async def send_from_sender(base_url: str, service: str, count: int, redis: str | None) -> None:
    config = _config(base_url, service, rate=RATE, redis=redis)
    async with TwilioTransport(config) as transport:
        sends = (
            transport.send(OutboundMessage(channel=Channel.SMS, to=TO, text=f"n{n}"))
            for n in range(count)
        )
        await asyncio.gather(*sends)


async def send_for_tenant(base_url: str, tenant: str, count: int, redis: str | None) -> None:
    own_service = "MG" + uuid4().hex
    pacer = pacer_for(TENANT_RATE, redis, namespace=TENANT_NAMESPACE)
    async with TwilioTransport(_config(base_url, own_service, rate=None, redis=None)) as sms:
        sender = OutboundSender(
            transports={Channel.SMS: sms},
            ledger=InMemoryOutboundLedger(),
            clock=SystemClock(),
            config=ServiceConfig(pseudonym_key="pseudonym-key-for-the-rate-limit-test"),
            tenant_pacer=pacer,
        )
        sends = (
            sender.send(
                OutboundMessage(channel=Channel.SMS, to=TO, text=f"n{n}"),
                SendContext(purpose=SendPurpose.PROACTIVE, cause=uuid4().hex, tenant_id=tenant),
            )
            for n in range(count)
        )
        receipts = await asyncio.gather(*sends)
    await pacer.aclose()
    assert all(receipt.provider_message_id for receipt in receipts), receipts


def main() -> None:
    mode, base_url, key, count, go = sys.argv[1:6]
    redis = sys.argv[6] if len(sys.argv) > 6 else None
    send = {"sender": send_from_sender, "tenant": send_for_tenant}[mode]
    Path(f"{go}.ready-{os.getpid()}").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    asyncio.run(send(base_url, key, int(count), redis))


if __name__ == "__main__":
    main()
