"""Every shipped AgentRunner passes the AgentRunner contract suite.

The Langflow runner runs here over httpx's in-process MockTransport answering with a recorded
response; ``tests/integration/test_langflow_runner.py`` runs the same suite over real HTTP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from walker_channels import AgentReply, AgentRequest
from walker_channels.agents import CallableRunner, LangflowConfig, LangflowRunner, echo_agent
from walker_channels.testing.contracts import AgentRunnerContract

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "langflow" / "run_quickstart.json"


def langflow_answer(request: httpx.Request) -> httpx.Response:
    """Langflow's /run as far as the contract needs: a key, a session, a recorded reply."""
    sent = json.loads(request.content)
    if request.headers.get("x-api-key") != "sk-contract" or not sent.get("session_id"):
        return httpx.Response(403, json={"detail": "Invalid or missing API key"})
    return httpx.Response(200, content=RECORDED.read_bytes())


class TestLangflowRunner(AgentRunnerContract):
    @pytest.fixture
    async def agent_runner(self) -> AsyncIterator[LangflowRunner]:
        config = LangflowConfig(
            base_url="http://langflow.test", api_key="sk-contract", flow_id="quickstart"
        )
        async with httpx.AsyncClient(transport=httpx.MockTransport(langflow_answer)) as client:
            yield LangflowRunner(config, client=client)


class TestSyncCallableRunner(AgentRunnerContract):
    @pytest.fixture
    def agent_runner(self) -> CallableRunner:
        return CallableRunner(lambda request: f"you said {request.text}", default_confidence=0.7)


class TestAsyncCallableRunner(AgentRunnerContract):
    @pytest.fixture
    def agent_runner(self) -> CallableRunner:
        async def answer(request: AgentRequest) -> AgentReply:
            return AgentReply(text="async answer", confidence=None, agent_id="async-llm")

        return CallableRunner(answer)


class TestEchoAgent(AgentRunnerContract):
    @pytest.fixture
    def agent_runner(self) -> CallableRunner:
        return echo_agent()
