"""One sending process of the shared rate limit test: ``COUNT`` sends through the Twilio
transport, all from one messaging service. Once imported it creates ``GO.ready-<pid>`` and
waits for ``GO`` to exist, so the processes start together.

    python rate_limited_sender.py API_BASE_URL SERVICE_SID COUNT GO [REDIS_URL]

Without ``REDIS_URL`` the process holds the limit on its own (the in-process pacer).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from walker_channels.models import Address, Channel, OutboundMessage
from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN
from walker_channels.twilio import TwilioConfig, TwilioTransport

RATE = 1.0
"""Sends per second from one sender."""


async def send_all(base_url: str, service: str, count: int, redis: str | None) -> None:
    config = TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        channel=Channel.SMS,
        api_base_url=base_url,
        messaging_service_sid=service,
        rate_per_sender=RATE,
        rate_limit_storage=redis,
    )
    to = Address(channel=Channel.SMS, value="+14155552671")
    async with TwilioTransport(config) as transport:
        sends = (
            transport.send(OutboundMessage(channel=Channel.SMS, to=to, text=f"n{n}"))
            for n in range(count)
        )
        await asyncio.gather(*sends)


def main() -> None:
    base_url, service, count, go = sys.argv[1:5]
    redis = sys.argv[5] if len(sys.argv) > 5 else None
    Path(f"{go}.ready-{os.getpid()}").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    asyncio.run(send_all(base_url, service, int(count), redis))


if __name__ == "__main__":
    main()
