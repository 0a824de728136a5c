"""The agent settings read from the environment reach the Langflow runner and the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from walker_channels import ConfigurationError
from walker_channels.app import Settings

LANGFLOW = {
    "LANGFLOW_BASE_URL": "http://127.0.0.1:7860",
    "LANGFLOW_FLOW_ID": "support",
    "WALKER_PSEUDONYM_KEY": "pseudonym-secret",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in LANGFLOW.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_every_agent_variable_reaches_the_langflow_config(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("LANGFLOW_TENANT_FLOWS", '{"acme": "acme-flow"}')
    environment.setenv("LANGFLOW_DEFAULT_CONFIDENCE", "0.8")
    environment.setenv("LANGFLOW_CONFIDENCE_PATH", "results.message.data.confidence")
    environment.setenv("LANGFLOW_CONTENT_COMPONENT", "TextInput-x7Kp2")
    environment.setenv("WALKER_AGENT_TIMEOUT", "25")

    settings = Settings()
    config = settings.langflow_config()

    assert config is not None
    assert config.flow_for("acme", None) == "acme-flow"
    assert config.flow_for("other", None) == "support"
    assert config.default_confidence == 0.8
    assert config.confidence_path == "results.message.data.confidence"
    assert config.content_component == "TextInput-x7Kp2"
    assert config.timeout == 25
    assert settings.service_config().agent_timeout == timedelta(seconds=25)


def test_without_them_flow_replies_wait_for_review_and_content_is_appended(
    environment: pytest.MonkeyPatch,
) -> None:
    config = Settings().langflow_config()

    assert config is not None
    assert (config.default_confidence, config.content_component) == (None, None)
    assert config.timeout == 10


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LANGFLOW_DEFAULT_CONFIDENCE", "1.5"),
        ("LANGFLOW_DEFAULT_CONFIDENCE", "sure"),
        ("LANGFLOW_TENANT_FLOWS", "acme=flow"),
        ("WALKER_AGENT_TIMEOUT", "0"),
    ],
)
def test_a_bad_value_is_named_without_being_echoed(
    environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    environment.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=variable) as refused:
        Settings()
    assert value not in str(refused.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LANGFLOW_CONFIDENCE_PATH", "results..confidence"),
        ("LANGFLOW_CONTENT_COMPONENT", "  "),
        ("LANGFLOW_TENANT_FLOWS", '{"acme": " "}'),
    ],
)
def test_a_bad_langflow_value_is_named_when_the_runner_is_configured(
    environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    environment.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=variable):
        Settings().langflow_config()
