"""The :class:`~walker_channels.ports.AgentRunner` contract."""

from __future__ import annotations

import pytest

from walker_channels.models import Address, AgentReply, AgentRequest, Channel
from walker_channels.ports import AgentRunner


@pytest.mark.anyio
class AgentRunnerContract:
    """Provide ``agent_runner`` and an ``agent_request`` it can answer."""

    @pytest.fixture
    def agent_runner(self) -> AgentRunner:
        """Override: the AgentRunner under test."""
        raise NotImplementedError

    @pytest.fixture
    def agent_request(self) -> AgentRequest:
        """A request the runner can answer (override to change it)."""
        return AgentRequest(
            tenant_id="t1",
            session_id="t1:whatsapp:p1",
            channel=Channel.WHATSAPP,
            participant=Address(channel=Channel.WHATSAPP, value="+14155552671"),
            text="hi",
        )

    async def test_a_run_answers_with_a_valid_reply(
        self, agent_runner: AgentRunner, agent_request: AgentRequest
    ) -> None:
        reply = await agent_runner.run(agent_request)
        assert isinstance(reply, AgentReply)
        assert reply.agent_id
        assert reply.confidence is None or 0.0 <= reply.confidence <= 1.0
