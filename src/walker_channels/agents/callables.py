"""An :class:`~walker_channels.ports.AgentRunner` around any Python callable.

For LLM SDKs, hand-written agents and tests: wrap ``(AgentRequest) -> AgentReply | str``,
sync or async. Sync callables run in a worker thread so they never block the event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from walker_channels.agents.extract import parse_confidence
from walker_channels.exceptions import (
    AgentError,
    AgentTimeout,
    ConfigurationError,
    InvalidAgentReply,
)
from walker_channels.models import AgentReply, AgentRequest

AgentResult = AgentReply | str
AgentCallable = Callable[[AgentRequest], AgentResult | Awaitable[AgentResult]]
"""What :class:`CallableRunner` wraps: a sync or async function of one request."""


class CallableRunner:
    """Runs a sync or async callable as an agent.

    A returned ``str`` becomes an :class:`AgentReply` with this runner's ``agent_id`` and
    ``default_confidence``: ``None`` by default, which sends every such reply to review
    (``MISSING_CONFIDENCE``); set it (say ``0.8``) when you trust the agent's plain answers, and
    the confidence threshold decides as for any reply. A returned :class:`AgentReply` is passed
    through as it is, its own confidence included. An exception other than
    :class:`~walker_channels.exceptions.AgentError` is wrapped in one (naming only its type,
    since its message may quote the person's text). With ``timeout``, a slower answer raises
    :class:`~walker_channels.exceptions.AgentTimeout` (a sync callable's thread cannot be
    stopped; it finishes in the background and its result is dropped). ``confidence=`` is the
    old name of ``default_confidence`` and is deprecated.
    """

    def __init__(
        self,
        func: AgentCallable,
        *,
        agent_id: str | None = None,
        default_confidence: float | None = None,
        timeout: float | None = None,
        confidence: float | None = None,
    ) -> None:
        if confidence is not None:
            if default_confidence is not None:
                raise ConfigurationError(
                    "pass default_confidence only (confidence is its old name)"
                )
            warnings.warn(
                "CallableRunner(confidence=...) is deprecated: use default_confidence=",
                DeprecationWarning,
                stacklevel=2,
            )
            default_confidence = confidence
        if not callable(func):
            raise ConfigurationError("CallableRunner needs a callable taking an AgentRequest")
        if timeout is not None and not timeout > 0:
            raise ConfigurationError("CallableRunner timeout must be a positive number of seconds")
        self.func = func
        self.agent_id = agent_id or _name_of(func)
        self.default_confidence = _checked_confidence(default_confidence)
        self.timeout = timeout
        self._is_async = _is_async(func)

    async def run(self, request: AgentRequest) -> AgentReply:
        """Call the wrapped callable with ``request`` and normalise its answer."""
        try:
            async with asyncio.timeout(self.timeout):
                result = await self._call(request)
        except TimeoutError as exc:
            raise AgentTimeout(
                f"agent {self.agent_id!r} gave no answer within {self.timeout:g} s"
            ) from exc
        except AgentError:
            raise
        except ValidationError as exc:
            fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
            check = ", ".join(fields) or "its fields"
            raise InvalidAgentReply(
                f"agent {self.agent_id!r} built an invalid reply (check {check})"
            ) from exc
        except Exception as exc:
            raise AgentError(f"agent {self.agent_id!r} failed with {type(exc).__name__}") from exc
        return self._reply(result)

    async def _call(self, request: AgentRequest) -> object:
        if self._is_async:
            result: object = self.func(request)
        else:
            result = await asyncio.to_thread(self.func, request)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _reply(self, result: object) -> AgentReply:
        if isinstance(result, AgentReply):
            return result
        if isinstance(result, str):
            return AgentReply(
                text=result, confidence=self.default_confidence, agent_id=self.agent_id
            )
        raise InvalidAgentReply(
            f"agent {self.agent_id!r} returned {type(result).__name__!r}; "
            "return an AgentReply or a str"
        )


def _is_async(func: object) -> bool:
    call = getattr(func, "__call__", None)  # noqa: B004 - detects an async __call__
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)


def _name_of(func: object) -> str:
    name = getattr(func, "__name__", None)
    if isinstance(name, str):
        return name if name.isidentifier() else "callable"
    return type(func).__name__


def _checked_confidence(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_confidence(value)
    except InvalidAgentReply as exc:
        raise ConfigurationError(
            "default_confidence must be a number from 0 to 1, or None"
        ) from exc
