"""The Langflow runner against a real HTTP server on loopback that behaves like Langflow."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("uvicorn", reason="the loopback server needs the fastapi extra")

from langflow_server import LangflowServer

from walker_channels import (
    Address,
    AgentError,
    AgentMisconfigured,
    AgentRequest,
    AgentTimeout,
    Channel,
    InvalidAgentReply,
)
from walker_channels.agents import LangflowConfig, LangflowRunner
from walker_channels.testing.contracts import AgentRunnerContract

pytestmark = pytest.mark.anyio

API_KEY = "sk-test-5b1f0c7e9a"
PERSON = Address(channel=Channel.WHATSAPP, value="+14155552671")


@pytest.fixture(scope="module")
def server() -> Iterator[LangflowServer]:
    with LangflowServer(api_key=API_KEY) as running:
        yield running


def config_for(server: LangflowServer, flow: str = "echo", **changes: Any) -> LangflowConfig:
    settings: dict[str, Any] = {
        "base_url": server.url,
        "api_key": API_KEY,
        "flow_id": flow,
        "timeout": 5.0,
        "retry_wait": 0.0,
    }
    return LangflowConfig(**(settings | changes))


@pytest.fixture
async def runner_for(server: LangflowServer) -> AsyncIterator[Any]:
    runners: list[LangflowRunner] = []

    def make(flow: str = "echo", **changes: Any) -> LangflowRunner:
        runners.append(LangflowRunner(config_for(server, flow, **changes)))
        return runners[-1]

    yield make
    for runner in runners:
        await runner.aclose()


def sent(server: LangflowServer, flow: str, session: str) -> int:
    """How many requests for ``flow`` in ``session`` reached the server."""
    return len([seen for seen in server.seen(flow) if seen.body["session_id"] == session])


def ask(text: str = "hi", *, session: str = "t1:whatsapp:p1:1", **changes: Any) -> AgentRequest:
    fields: dict[str, Any] = {
        "tenant_id": "t1",
        "session_id": session,
        "channel": Channel.WHATSAPP,
        "participant": PERSON,
        "text": text,
    }
    return AgentRequest(**(fields | changes))


class TestTheRequestLangflowReceives:
    async def test_it_carries_the_key_the_text_and_the_conversation_session(
        self, server: LangflowServer, runner_for: Any
    ) -> None:
        await runner_for().run(ask("where is my order", session="t1:whatsapp:abc:17"))
        seen = server.seen("echo")[-1]
        assert seen.api_key == API_KEY
        assert seen.query_api_key is None
        assert seen.body == {
            "input_value": "where is my order",
            "input_type": "chat",
            "output_type": "chat",
            "session_id": "t1:whatsapp:abc:17",
        }

    async def test_two_people_send_two_sessions_and_never_the_flow_id(
        self, server: LangflowServer, runner_for: Any
    ) -> None:
        runner = runner_for("echo")
        await runner.run(ask(session="t1:whatsapp:alice:1"))
        await runner.run(ask(session="t1:whatsapp:bob:1"))
        sessions = [seen.body["session_id"] for seen in server.seen("echo")[-2:]]
        assert sessions == ["t1:whatsapp:alice:1", "t1:whatsapp:bob:1"]
        assert "echo" not in sessions

    async def test_configured_tweaks_and_output_component_are_sent(
        self, server: LangflowServer, runner_for: Any
    ) -> None:
        tweaks = {"OpenAIModel-d1wOZ": {"temperature": 0.1}}
        runner = runner_for("echo", tweaks=tweaks, output_component="ChatOutput-ylMzN")
        await runner.run(ask(session="tweaked"))
        (seen,) = [s for s in server.seen("echo") if s.body["session_id"] == "tweaked"]
        assert seen.body["tweaks"] == tweaks
        assert seen.body["output_component"] == "ChatOutput-ylMzN"

    async def test_the_flow_follows_the_agent_then_the_tenant_then_the_default(
        self, server: LangflowServer, runner_for: Any
    ) -> None:
        runner = runner_for(
            "echo", agent_flows={"sales": "recent"}, tenant_flows={"t2": "quickstart"}
        )
        by_agent = await runner.run(ask(agent_id="sales", tenant_id="t2"))
        by_tenant = await runner.run(ask(tenant_id="t2"))
        by_default = await runner.run(ask(tenant_id="t3", agent_id="unmapped"))
        assert by_agent.text.startswith("Bioluminescence")
        assert by_agent.agent_id == "sales"
        assert by_tenant.text.startswith("Hello world!")
        assert by_tenant.agent_id == "quickstart"
        assert by_default.text == "echo: hi"
        assert by_default.metadata["langflow_flow"] == "echo"


class TestReplyTextAcrossLangflowVersions:
    @pytest.mark.parametrize(
        ("flow", "expected"),
        [
            ("recent", "Bioluminescence is light made by living things."),
            ("quickstart", "Hello world! 🌍 How can I assist you today?"),
            ("legacy_data_text", "The data lists media items with their metrics."),
            ("outputs_message", "Read from outputs.message."),
            ("messages_only", "Read from the message list."),
            ("text_then_chat", "The chat output wins."),
            ("text_output_only", "internal: routing notes"),
        ],
    )
    async def test_the_reply_text_is_found(self, runner_for: Any, flow: str, expected: str) -> None:
        reply = await runner_for(flow).run(ask())
        assert reply.text == expected
        assert reply.agent_id == flow

    async def test_the_component_and_returned_session_are_kept_in_metadata(
        self, runner_for: Any
    ) -> None:
        reply = await runner_for("echo").run(ask(session="meta-1"))
        assert reply.metadata == {
            "langflow_flow": "echo",
            "langflow_component_id": "ChatOutput-ylMzN",
            "langflow_session_id": "meta-1",
        }


class TestConfidence:
    async def test_a_flow_without_confidence_gets_none_so_routing_escalates(
        self, runner_for: Any
    ) -> None:
        assert (await runner_for("recent").run(ask())).confidence is None

    async def test_a_configured_default_applies_when_the_flow_gives_none(
        self, runner_for: Any
    ) -> None:
        assert (await runner_for("recent", default_confidence=0.7).run(ask())).confidence == 0.7

    async def test_a_json_reply_gives_its_text_and_confidence(self, runner_for: Any) -> None:
        reply = await runner_for("structured_reply", default_confidence=0.1).run(ask())
        assert (reply.text, reply.confidence) == ("Your order ships tomorrow.", 0.82)

    async def test_a_configured_path_reads_the_confidence_from_the_output(
        self, runner_for: Any
    ) -> None:
        runner = runner_for("confidence_in_data", confidence_path="results.message.data.confidence")
        reply = await runner.run(ask())
        assert (reply.text, reply.confidence) == ("Scored reply.", 0.42)

    @pytest.mark.parametrize("confidence", [1.5, -0.1, "high", float("nan"), True])
    async def test_an_invalid_confidence_is_an_invalid_reply(
        self, runner_for: Any, confidence: object
    ) -> None:
        text = json.dumps({"text": "sure", "confidence": confidence})
        with pytest.raises(InvalidAgentReply):
            await runner_for("verbatim").run(ask(text))


class TestFailuresBecomeTypedErrors:
    async def test_a_bad_key_is_misconfiguration_and_the_key_is_never_shown(
        self, server: LangflowServer
    ) -> None:
        async with LangflowRunner(config_for(server, api_key="sk-wrong-key")) as runner:
            with pytest.raises(AgentMisconfigured, match="LANGFLOW_API_KEY") as caught:
                await runner.run(ask())
        assert "Invalid or missing API key" in str(caught.value)
        assert "sk-wrong-key" not in str(caught.value)

    async def test_a_flow_the_key_does_not_own_is_misconfiguration(self, runner_for: Any) -> None:
        with pytest.raises(AgentMisconfigured, match="permission to run this flow"):
            await runner_for("not-owned").run(ask())

    async def test_an_unknown_flow_is_misconfiguration(self, runner_for: Any) -> None:
        with pytest.raises(AgentMisconfigured, match=r"no flow 'nope'.*Flow not found"):
            await runner_for("nope").run(ask())

    async def test_a_redirect_is_misconfiguration_and_not_followed(self, runner_for: Any) -> None:
        with pytest.raises(AgentMisconfigured, match=r"HTTP 307.*LANGFLOW_BASE_URL"):
            await runner_for("moved").run(ask())

    async def test_an_echoed_key_is_redacted(self, runner_for: Any) -> None:
        with pytest.raises(AgentMisconfigured) as caught:
            await runner_for("leaky").run(ask())
        assert API_KEY not in str(caught.value)
        assert "[redacted]" in str(caught.value)

    async def test_a_500_gives_the_message_from_its_json_string_detail(
        self, runner_for: Any
    ) -> None:
        with pytest.raises(AgentError, match="OpenAI API key is invalid") as caught:
            await runner_for("crash").run(ask())
        assert type(caught.value) is AgentError
        assert "Traceback" not in str(caught.value)

    async def test_a_rejected_request_is_an_agent_error(self, runner_for: Any) -> None:
        with pytest.raises(AgentError, match="HTTP 400: Invalid input value") as caught:
            await runner_for("bad-input").run(ask())
        assert not isinstance(caught.value, AgentMisconfigured)

    async def test_a_slow_flow_times_out_within_the_budget(self, runner_for: Any) -> None:
        started = time.monotonic()
        with pytest.raises(AgentTimeout, match=r"within 0\.2 s"):
            await runner_for("slow", timeout=0.2).run(ask())
        assert time.monotonic() - started < 0.9

    @pytest.mark.parametrize("flow", ["garbage", "json-list", "no_text"])
    async def test_a_malformed_answer_is_an_invalid_reply(self, runner_for: Any, flow: str) -> None:
        with pytest.raises(InvalidAgentReply):
            await runner_for(flow).run(ask())

    async def test_an_unreachable_server_is_an_agent_error(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = LangflowConfig(base_url=f"http://127.0.0.1:{port}", flow_id="x", retry_wait=0)
        async with LangflowRunner(config) as runner:
            with pytest.raises(
                AgentError, match=r"could not reach Langflow at http://127\.0\.0\.1"
            ):
                await runner.run(ask())


class TestRetries:
    async def test_an_upstream_outage_is_retried_once(
        self, server: LangflowServer, runner_for: Any
    ) -> None:
        reply = await runner_for("flaky").run(ask("hello", session="flaky-1"))
        assert reply.text == "recovered: hello"
        assert sent(server, "flaky", "flaky-1") == 2

    async def test_retries_are_bounded(self, server: LangflowServer, runner_for: Any) -> None:
        with pytest.raises(AgentError, match="after 2 attempts"):
            await runner_for("rate-limited").run(ask(session="limited-1"))
        assert sent(server, "rate-limited", "limited-1") == 2

    async def test_a_gateway_timeout_is_not_retried(
        self, server: LangflowServer, runner_for: Any
    ) -> None:
        with pytest.raises(AgentError, match="HTTP 504"):
            await runner_for("gateway-timeout").run(ask(session="gw-1"))
        assert sent(server, "gateway-timeout", "gw-1") == 1

    async def test_retrying_can_be_turned_off(
        self, server: LangflowServer, runner_for: Any
    ) -> None:
        with pytest.raises(AgentError, match="HTTP 502"):
            await runner_for("flaky", retries=0).run(ask(session="flaky-2"))
        assert sent(server, "flaky", "flaky-2") == 1


async def test_an_injected_client_is_shared_and_left_open(server: LangflowServer) -> None:
    async with httpx.AsyncClient() as client:
        runner = LangflowRunner(config_for(server), client=client)
        await runner.run(ask())
        await runner.aclose()
        assert not client.is_closed
        assert (await runner.run(ask("again"))).text == "echo: again"


class TestLangflowRunnerContract(AgentRunnerContract):
    @pytest.fixture
    async def agent_runner(self, server: LangflowServer) -> AsyncIterator[LangflowRunner]:
        async with LangflowRunner(config_for(server, "quickstart")) as runner:
            yield runner
