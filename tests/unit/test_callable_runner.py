"""Any Python callable as an agent, and the demo's echo agent built on it."""

from __future__ import annotations

import asyncio
import threading
import time
from functools import partial
from typing import Any

import pytest

from walker_channels import (
    Address,
    AgentError,
    AgentReply,
    AgentRequest,
    AgentTimeout,
    Channel,
    ConfigurationError,
    InvalidAgentReply,
    Media,
)
from walker_channels.agents import CallableRunner, echo_agent

pytestmark = pytest.mark.anyio

PERSON = Address(channel=Channel.SMS, value="+14155552671")


def ask(text: str = "hello", **changes: Any) -> AgentRequest:
    fields: dict[str, Any] = {
        "tenant_id": "t1",
        "session_id": "t1:sms:p1:1",
        "channel": Channel.SMS,
        "participant": PERSON,
        "text": text,
    }
    return AgentRequest(**(fields | changes))


def shout(request: AgentRequest) -> str:
    return request.text.upper()


async def shout_later(request: AgentRequest) -> str:
    await asyncio.sleep(0)
    return request.text.upper()


class AsyncAgent:
    async def __call__(self, request: AgentRequest) -> AgentReply:
        return AgentReply(text="from an object", confidence=0.4, agent_id="obj")


class TestWrapping:
    async def test_a_sync_function_returning_text_gets_the_configured_identity(self) -> None:
        reply = await CallableRunner(shout, agent_id="caps", default_confidence=0.8).run(ask())
        assert reply == AgentReply(text="HELLO", confidence=0.8, agent_id="caps")

    async def test_text_has_no_confidence_unless_the_host_gives_a_default(self) -> None:
        assert (await CallableRunner(shout).run(ask())).confidence is None

    async def test_a_default_confidence_leaves_an_agent_reply_its_own(self) -> None:
        reply = AgentReply(text="unsure", confidence=None, agent_id="llm")
        runner = CallableRunner(lambda request: reply, default_confidence=0.9)

        assert (await runner.run(ask())).confidence is None

    async def test_confidence_is_the_deprecated_name_of_default_confidence(self) -> None:
        with pytest.deprecated_call(match="default_confidence"):
            runner = CallableRunner(shout, confidence=0.7)

        assert (await runner.run(ask())).confidence == 0.7

    def test_both_names_at_once_are_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="default_confidence only"):
            CallableRunner(shout, default_confidence=0.7, confidence=0.7)

    async def test_an_async_function_is_awaited(self) -> None:
        reply = await CallableRunner(shout_later).run(ask("hey"))
        assert (reply.text, reply.agent_id, reply.confidence) == ("HEY", "shout_later", None)

    async def test_an_object_with_an_async_call_and_a_partial_both_work(self) -> None:
        assert (await CallableRunner(AsyncAgent()).run(ask())).agent_id == "obj"
        runner = CallableRunner(partial(shout_later))
        assert (await runner.run(ask("p"))).text == "P"

    async def test_a_returned_reply_is_passed_through(self) -> None:
        reply = AgentReply(text="mine", confidence=0.95, agent_id="llm", metadata={"model": "m"})
        assert await CallableRunner(lambda request: reply, agent_id="other").run(ask()) == reply

    async def test_a_lambda_gets_a_readable_agent_id(self) -> None:
        assert (await CallableRunner(lambda request: "x").run(ask())).agent_id == "callable"

    async def test_a_sync_function_runs_off_the_event_loop_thread(self) -> None:
        loop_thread = threading.get_ident()
        seen: list[int] = []

        def record(request: AgentRequest) -> str:
            seen.append(threading.get_ident())
            return "ok"

        await CallableRunner(record).run(ask())
        assert seen
        assert seen[0] != loop_thread

    async def test_a_slow_sync_function_does_not_block_other_tasks(self) -> None:
        def slow(request: AgentRequest) -> str:
            time.sleep(0.3)
            return "done"

        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            for _ in range(5):
                await asyncio.sleep(0.02)
                ticks += 1

        await asyncio.gather(CallableRunner(slow).run(ask()), ticker())
        assert ticks == 5


class TestFailures:
    async def test_other_exceptions_become_agent_errors_naming_only_their_type(self) -> None:
        def broken(request: AgentRequest) -> str:
            raise KeyError(request.text)

        with pytest.raises(AgentError, match="failed with KeyError") as caught:
            await CallableRunner(broken).run(ask("secret words"))
        assert "secret words" not in str(caught.value)
        assert isinstance(caught.value.__cause__, KeyError)

    async def test_agent_errors_pass_through_unchanged(self) -> None:
        error = AgentTimeout("upstream LLM timed out")

        async def gives_up(request: AgentRequest) -> str:
            raise error

        with pytest.raises(AgentTimeout) as caught:
            await CallableRunner(gives_up).run(ask())
        assert caught.value is error

    async def test_an_answer_of_the_wrong_type_is_an_invalid_reply(self) -> None:
        with pytest.raises(InvalidAgentReply, match="returned 'int'"):
            await CallableRunner(lambda request: 42).run(ask())  # type: ignore[arg-type, return-value]

    async def test_a_reply_built_with_a_bad_confidence_is_an_invalid_reply(self) -> None:
        def overconfident(request: AgentRequest) -> AgentReply:
            return AgentReply(text="sure", confidence=1.5, agent_id="x")

        with pytest.raises(InvalidAgentReply, match="confidence"):
            await CallableRunner(overconfident).run(ask())

    async def test_a_timeout_stops_waiting(self) -> None:
        async def dawdle(request: AgentRequest) -> str:
            await asyncio.sleep(5)
            return "late"

        started = time.monotonic()
        with pytest.raises(AgentTimeout, match=r"within 0\.05 s"):
            await CallableRunner(dawdle, timeout=0.05).run(ask())
        assert time.monotonic() - started < 1

    @pytest.mark.parametrize(
        "settings",
        [
            {"default_confidence": 1.2},
            {"default_confidence": float("nan")},
            {"timeout": 0},
            {"timeout": -1},
        ],
    )
    def test_bad_settings_are_configuration_errors(self, settings: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            CallableRunner(shout, **settings)

    def test_a_non_callable_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="callable"):
            CallableRunner("shout")  # type: ignore[arg-type]


class TestEchoAgent:
    async def test_it_echoes_with_its_confidence(self) -> None:
        reply = await echo_agent().run(ask("hi there"))
        assert reply == AgentReply(text="Echo: hi there", confidence=0.9, agent_id="echo")

    async def test_confidence_may_depend_on_the_message(self) -> None:
        runner = echo_agent(confidence=lambda r: 0.2 if "refund" in r.text else 0.9, prefix="")
        assert (await runner.run(ask("refund please"))).confidence == 0.2
        assert (await runner.run(ask("thanks"))).confidence == 0.9

    async def test_a_message_with_only_media_is_described(self) -> None:
        media = (Media(url="https://api.twilio.com/m/1", content_type="image/jpeg"),)
        assert (await echo_agent().run(ask("", media=media))).text == "Echo: (1 attachment)"

    async def test_no_confidence_is_allowed_so_every_reply_goes_to_review(self) -> None:
        assert (await echo_agent(confidence=None).run(ask())).confidence is None
