"""Settings from the environment, the composition root, and the one error mapping."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from walker_channels import ConfigurationError, Principal
from walker_channels.agents import LangflowRunner, echo_agent
from walker_channels.app import Settings, WebConfig, build_services
from walker_channels.exceptions import (
    AlreadyDecided,
    InvalidPhoneNumber,
    NotAuthenticated,
    PayloadTooLarge,
    ProviderError,
)
from walker_channels.testing import RecordingTransport
from walker_channels.twilio import TwilioTransport
from walker_channels.web import (
    Access,
    Endpoint,
    Headers,
    HttpApi,
    NeutralRequest,
    NeutralResponse,
    error_response,
)

pytestmark = pytest.mark.anyio

ENVIRONMENT = {
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "twilio-secret",
    "TWILIO_WHATSAPP_FROM": "whatsapp:+14155550100",
    "WALKER_PSEUDONYM_KEY": "pseudonym-secret",
    "WALKER_CONFIDENCE_THRESHOLD": "0.75",
    "WALKER_PUBLIC_URL": "https://walker.example.com",
    "LANGFLOW_BASE_URL": "http://127.0.0.1:7860",
    "LANGFLOW_API_KEY": "langflow-secret",
    "LANGFLOW_FLOW_ID": "flow-1",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "2525",
    "SMTP_FROM": "Walker <walker@example.com>",
    "SMTP_SECURITY": "none",
    "WALKER_SWEEP_INTERVAL": "0",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The documented environment variables, with a SQLite file in ``tmp_path``."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WALKER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/walker.db")


@pytest.mark.usefixtures("environment")
def test_settings_come_from_the_environment_and_hide_their_secrets() -> None:
    settings = Settings()

    assert settings.walker_confidence_threshold == 0.75
    assert settings.smtp_port == 2525
    for secret in ("twilio-secret", "pseudonym-secret", "langflow-secret"):
        assert secret not in repr(settings)


def test_settings_refuse_values_that_cannot_work() -> None:
    with pytest.raises(ConfigurationError, match="WALKER_CONFIDENCE_THRESHOLD"):
        Settings(walker_confidence_threshold=1.5)
    with pytest.raises(ConfigurationError, match="SMTP_SECURITY") as refused:
        Settings(smtp_security="ssl-please")
    assert "ssl-please" not in str(refused.value)


def test_the_database_defaults_to_a_sqlite_file() -> None:
    assert Settings().database_url().startswith("sqlite+aiosqlite:///")


@pytest.mark.usefixtures("environment")
async def test_the_root_builds_every_real_piece_from_settings_and_closes_them() -> None:
    services = build_services()

    assert isinstance(services.transports[next(iter(services.transports))], TwilioTransport)
    assert isinstance(services.agent, LangflowRunner)
    assert services.email is not None
    assert services.config.routing.threshold == 0.75
    await services.start()
    await services.close()
    assert services.closed


async def test_objects_passed_in_replace_what_settings_would_build(tmp_path: Path) -> None:
    transport = RecordingTransport()
    agent = echo_agent()
    settings = Settings(
        walker_database_url=f"sqlite+aiosqlite:///{tmp_path}/walker.db",
        walker_pseudonym_key="key",
    )

    services = build_services(settings, whatsapp_transport=transport, agent=agent)

    assert services.agent is agent
    assert services.email is None
    paths = [endpoint.path for endpoint in HttpApi.from_services(services).endpoints]
    assert paths
    assert not [path for path in paths if path.startswith("/api/v1/channels/email")]


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("WALKER_PSEUDONYM_KEY", "WALKER_PSEUDONYM_KEY"),
        ("LANGFLOW_FLOW_ID", "LANGFLOW_FLOW_ID"),
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
        ("SMTP_FROM", "SMTP_FROM"),
    ],
)
@pytest.mark.usefixtures("environment")
def test_a_missing_setting_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, missing: str, named: str
) -> None:
    monkeypatch.delenv(missing)

    with pytest.raises(ConfigurationError, match=named):
        build_services()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PayloadTooLarge("too big"), 413),
        (InvalidPhoneNumber("not a phone number"), 422),
        (NotAuthenticated("sign in"), 401),
        (AlreadyDecided("decided"), 409),
        (ProviderError("Twilio refused", retryable=False, code="21610"), 502),
    ],
)
def test_library_errors_map_to_their_status_with_their_message(
    error: Exception, status: int
) -> None:
    response = error_response(error)

    assert response.status == status
    assert response.body == NeutralResponse.json({"detail": str(error)}).body


async def test_an_unexpected_error_is_a_logged_500_that_says_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
        raise RuntimeError("database password is hunter2")

    endpoint = Endpoint("broken", "GET", "/broken", Access.PROVIDER, broken, "Broken", "test")
    api = HttpApi([endpoint], WebConfig())
    request = NeutralRequest(method="GET", url="http://testserver/broken", headers=Headers())

    response = await api.handle(endpoint, request, None)

    assert response.status == 500
    assert b"hunter2" not in response.body
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


async def test_a_validation_error_lists_fields_without_their_values() -> None:
    class Body(BaseModel):
        to: int

    request = NeutralRequest(
        method="POST",
        url="http://testserver/x",
        headers=Headers({"Content-Type": "application/json"}),
        body=b'{"to": "call +14155552671"}',
    )
    with pytest.raises(ValidationError) as caught:
        request.json_body(Body)

    response = error_response(caught.value)

    assert response.status == 422
    assert b"14155552671" not in response.body
    assert b'"loc":["to"]' in response.body
