"""An :class:`~walker_channels.ports.AgentRunner` that runs a Langflow flow over HTTP.

Each turn is ``POST {base_url}/api/v1/run/{flow}`` with the ``x-api-key`` header and the body
``{input_value, input_type: "chat", output_type: "chat", session_id}``, plus ``tweaks`` and
``output_component`` when configured.

The message's media and structured parts (:meth:`AgentRequest.content_block`) go with it: by
default appended to ``input_value`` as a delimited JSON block
(:func:`~walker_channels.agents.content.text_with_content`); with ``content_component`` set,
as a tweak of that component instead (``tweaks: {component: {content_field: "<json>"}}``),
sent on every turn, ``"{}"`` for plain text, so ``input_value`` is the person's text alone.

``session_id`` is always the conversation's (:attr:`AgentRequest.session_id`): when it is left
out, Langflow falls back to the flow id, and every person talking to the flow would share one
chat memory.

Decisions worth knowing:

- **Missing confidence.** ``default_confidence`` defaults to ``None``: a flow that reports no
  confidence has every reply escalated for review (``MISSING_CONFIDENCE``, high risk) until an
  operator who trusts the flow sets a default. Auto-sending unchecked text is the unsafe
  direction, so it has to be chosen explicitly.
- **Retries.** One retry (``retries=1``) after ``retry_wait`` seconds, only where nothing useful
  happened: the connection could not be made, or Langflow answered 429, 502 or 503 (an
  upstream model rate limit or outage). Not 504 and not timeouts: the flow may have run to the
  end, and running it again doubles the model cost and the turn in the chat memory. All attempts
  share one total budget of ``timeout`` seconds. ``retries=0`` turns retrying off.
- **Errors.** A timeout is :class:`AgentTimeout`; 401/403 (bad key, flow not owned) and 404
  (unknown flow) are :class:`AgentMisconfigured`; other HTTP errors are :class:`AgentError`
  with Langflow's own ``message`` (its 500 ``detail`` is a JSON string, which is decoded);
  a body without JSON or reply text is :class:`InvalidAgentReply`. The API key never appears
  in a message, even if the server echoes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import Self
from urllib.parse import quote

import httpx
from pydantic import Field, JsonValue, SecretStr, field_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_fixed,
)

from walker_channels.agents.content import content_json, text_with_content
from walker_channels.agents.extract import (
    Path,
    component_id,
    error_detail,
    extract_reply,
    parse_confidence,
    parse_path,
)
from walker_channels.agents.langflow_errors import RETRYABLE_STATUSES, error_for_status, redact
from walker_channels.exceptions import AgentError, AgentTimeout, InvalidAgentReply
from walker_channels.models import AgentReply, AgentRequest
from walker_channels.models.base import Frozen, JsonObject

RUN_PATH = "/api/v1/run/"


class LangflowConfig(Frozen):
    """Where the Langflow server is and how to call its flows.

    The settings layer fills ``base_url``, ``api_key`` and ``flow_id`` from
    ``LANGFLOW_BASE_URL``, ``LANGFLOW_API_KEY`` and ``LANGFLOW_FLOW_ID``.
    """

    base_url: str
    """Langflow's root URL, e.g. ``http://localhost:7860`` (a path prefix is kept)."""
    api_key: SecretStr | None = None
    """Sent as ``x-api-key``; a key of the user who owns the flows. ``None`` sends no key."""
    flow_id: str = Field(min_length=1)
    """The default flow: its UUID or endpoint name."""
    agent_flows: Mapping[str, str] = Field(default_factory=dict)
    """Flow per :attr:`AgentRequest.agent_id`; checked first."""
    tenant_flows: Mapping[str, str] = Field(default_factory=dict)
    """Flow per tenant; checked when the agent id has no flow of its own."""
    timeout: float = Field(default=30.0, gt=0, le=600)
    """Seconds for the whole turn, retries included."""
    default_confidence: float | None = None
    """Confidence when the flow reports none; ``None`` escalates such replies (see above)."""
    confidence_path: str | None = None
    """Dotted path into the chosen output entry, e.g. ``results.message.data.confidence``."""
    tweaks: JsonObject | None = None
    """Component tweaks sent with every run."""
    output_component: str = ""
    """Force the output of one component (Langflow's ``output_component``)."""
    content_component: str | None = None
    """The id of the component that receives the message content as a tweak, e.g.
    ``TextInput-x7Kp2``; ``None`` appends the content to ``input_value``."""
    content_field: str = Field(default="input_value", min_length=1)
    """The field of ``content_component`` that gets the JSON (a Text Input's ``input_value``)."""
    retries: int = Field(default=1, ge=0, le=3)
    retry_wait: float = Field(default=0.5, ge=0, le=10)
    """Seconds before a retry; 0 in tests."""

    @field_validator("base_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        url = httpx.URL(value.strip())
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("base_url must be an absolute http(s) URL, e.g. http://localhost:7860")
        return str(url).rstrip("/")

    @field_validator("default_confidence")
    @classmethod
    def _unit_interval(cls, value: float | None) -> float | None:
        if value is None:
            return None
        try:
            return parse_confidence(value)
        except InvalidAgentReply as exc:
            raise ValueError("default_confidence must be a number from 0 to 1, or None") from exc

    @field_validator("content_component")
    @classmethod
    def _component_id(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("content_component must be a component id, or None")
        return value.strip() if value is not None else None

    @field_validator("confidence_path")
    @classmethod
    def _dotted_path(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value)
        return value

    @field_validator("agent_flows", "tenant_flows")
    @classmethod
    def _named_flows(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        if any(not flow.strip() for flow in value.values()):
            raise ValueError("every mapped flow needs a flow id or endpoint name")
        return value

    @property
    def confidence_parts(self) -> Path | None:
        """``confidence_path`` split into its parts."""
        return None if self.confidence_path is None else parse_path(self.confidence_path)

    def flow_for(self, tenant_id: str, agent_id: str | None) -> str:
        """The flow to run: the agent's, else the tenant's, else the default."""
        if agent_id is not None and agent_id in self.agent_flows:
            return self.agent_flows[agent_id]
        return self.tenant_flows.get(tenant_id, self.flow_id)


class LangflowRunner:
    """An AgentRunner that runs each conversation turn as a Langflow flow.

    Pass a shared ``httpx.AsyncClient`` to pool connections with the rest of the app; without
    one the runner makes its own and :meth:`aclose` closes it. The reply's ``agent_id`` is the
    request's ``agent_id`` when set, else the flow that ran.
    """

    def __init__(self, config: LangflowConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._client = client if client is not None else httpx.AsyncClient()
        self._owns_client = client is None

    async def run(self, request: AgentRequest) -> AgentReply:
        """Run the flow chosen for ``request`` and turn its answer into an :class:`AgentReply`."""
        flow = self.config.flow_for(request.tenant_id, request.agent_id)
        response = await self._call(flow, self.payload(request))
        self._raise_for_status(response, flow)
        body = _json_body(response, flow)
        text, confidence, entry = extract_reply(
            body,
            default_confidence=self.config.default_confidence,
            confidence_path=self.config.confidence_parts,
        )
        return AgentReply(
            text=text,
            confidence=confidence,
            agent_id=request.agent_id or flow,
            metadata=_metadata(flow, body, entry),
        )

    def payload(self, request: AgentRequest) -> dict[str, JsonValue]:
        """The JSON body of the run request for ``request``."""
        as_tweak = self.config.content_component is not None
        body: dict[str, JsonValue] = {
            "input_value": request.text if as_tweak else text_with_content(request),
            "input_type": "chat",
            "output_type": "chat",
            "session_id": request.session_id,
        }
        if self.config.output_component:
            body["output_component"] = self.config.output_component
        tweaks = self._tweaks(request)
        if tweaks:
            body["tweaks"] = tweaks
        return body

    def _tweaks(self, request: AgentRequest) -> JsonObject:
        tweaks: JsonObject = dict(self.config.tweaks or {})
        component = self.config.content_component
        if component is not None:
            configured = tweaks.get(component)
            fields = dict(configured) if isinstance(configured, Mapping) else {}
            tweaks[component] = {**fields, self.config.content_field: content_json(request)}
        return tweaks

    def run_url(self, flow: str) -> str:
        """The ``/run`` URL of ``flow`` (quoted, so a name cannot escape the path)."""
        return f"{self.config.base_url}{RUN_PATH}{quote(flow, safe='')}"

    async def aclose(self) -> None:
        """Close the HTTP client if this runner made it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(self, flow: str, payload: dict[str, JsonValue]) -> httpx.Response:
        try:
            async with asyncio.timeout(self.config.timeout):
                return await self._post_with_retry(flow, payload)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise AgentTimeout(
                f"Langflow flow {flow!r} gave no answer within {self.config.timeout:g} s: "
                "speed up the flow or raise the Langflow timeout"
            ) from exc
        except httpx.HTTPError as exc:
            raise AgentError(
                f"could not reach Langflow at {_origin(self.config.base_url)} "
                f"({type(exc).__name__}): check LANGFLOW_BASE_URL and that Langflow is running"
            ) from exc

    async def _post_with_retry(self, flow: str, payload: dict[str, JsonValue]) -> httpx.Response:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.retries + 1),
            wait=wait_fixed(self.config.retry_wait),
            retry=retry_if_exception_type(httpx.ConnectError)
            | retry_if_result(lambda response: response.status_code in RETRYABLE_STATUSES),
            retry_error_callback=_last_outcome,
        )
        response: httpx.Response = await retrying(self._post, flow, payload)
        return response

    async def _post(self, flow: str, payload: dict[str, JsonValue]) -> httpx.Response:
        headers = {"accept": "application/json"}
        if self.config.api_key is not None:
            headers["x-api-key"] = self.config.api_key.get_secret_value()
        return await self._client.post(
            self.run_url(flow), json=payload, headers=headers, timeout=self.config.timeout
        )

    def _raise_for_status(self, response: httpx.Response, flow: str) -> None:
        if response.is_success:
            return
        detail = redact(error_detail(response.content), self.config.api_key)
        attempts = self.config.retries + 1
        raise error_for_status(response.status_code, flow=flow, detail=detail, attempts=attempts)


def _last_outcome(state: RetryCallState) -> httpx.Response:
    # After the last attempt: hand back the last response (or re-raise its exception).
    assert state.outcome is not None  # tenacity always sets it before giving up
    response: httpx.Response = state.outcome.result()
    return response


def _json_body(response: httpx.Response, flow: str) -> object:
    try:
        body: object = response.json()
    except (ValueError, RecursionError) as exc:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise InvalidAgentReply(
            f"Langflow answered flow {flow!r} with a body that is not JSON ({kind}): "
            "check that LANGFLOW_BASE_URL points at Langflow itself"
        ) from exc
    return body


def _metadata(flow: str, body: object, entry: Mapping[str, object]) -> JsonObject:
    returned = body.get("session_id") if isinstance(body, Mapping) else None
    return {
        "langflow_flow": flow,
        "langflow_component_id": component_id(entry),
        "langflow_session_id": returned if isinstance(returned, str) else None,
    }


def _origin(base_url: str) -> str:
    url = httpx.URL(base_url)
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
