"""A worker process for the ordering test: answers queued messages with a slow agent.

``python ordering_worker.py URL SCHEMA LOG`` works the queue until it has been empty for a
second, appending ``start``/``end`` lines for every agent run and a ``sent`` line for every
reply to LOG (one ``write`` per line, so the lines of two processes never interleave).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime

from walker_channels.clock import SystemClock
from walker_channels.models import AgentReply, AgentRequest, Channel, OutboundMessage, SendResult
from walker_channels.services import ConversationService, OutboundSender, ServiceConfig
from walker_channels.sql import SqlStores
from walker_channels.testing import RecordingTransport

PSEUDONYM_KEY = "ordering-test-key"
AGENT_SECONDS = 0.3


class Log:
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def line(self, *fields: str) -> None:
        stamp = datetime.now(UTC).isoformat()
        os.write(self._fd, (" ".join((stamp, str(os.getpid()), *fields)) + "\n").encode())


class SlowAgent:
    def __init__(self, log: Log) -> None:
        self._log = log

    async def run(self, request: AgentRequest) -> AgentReply:
        self._log.line("start", request.message_id, request.text)
        await asyncio.sleep(AGENT_SECONDS)
        self._log.line("end", request.message_id, request.text)
        return AgentReply(text=f"re {request.text}", confidence=0.9, agent_id="slow")


class LoggingTransport(RecordingTransport):
    def __init__(self, log: Log) -> None:
        super().__init__(Channel.WHATSAPP)
        self._log = log

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await super().send(message)
        self._log.line("sent", message.to.value, message.text or "")
        return result


def conversations(stores: SqlStores, log: Log) -> ConversationService:
    """The conversation service the test's web side and every worker share the stores of."""
    config = ServiceConfig(pseudonym_key=PSEUDONYM_KEY)
    clock = SystemClock()
    sender = OutboundSender(
        transports={Channel.WHATSAPP: LoggingTransport(log)},
        ledger=stores.ledger,
        clock=clock,
        config=config,
    )
    return ConversationService(
        config=config,
        tenants=stores.tenants,
        events=stores.events,
        queue=stores.inbox,
        agent=SlowAgent(log),
        approvals=stores.approvals,
        sender=sender,
        clock=clock,
        conversations=stores.conversations,
    )


async def main(url: str, schema: str, path: str) -> None:
    stores = SqlStores.from_url(url, schema=schema or None)
    service = conversations(stores, Log(path))
    idle_since = asyncio.get_running_loop().time()
    try:
        while asyncio.get_running_loop().time() - idle_since < 1.0:
            if await service.process_pending(limit=1):
                idle_since = asyncio.get_running_loop().time()
            else:
                await asyncio.sleep(0.05)
    finally:
        await stores.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
