"""The demo's parts: the simulated Twilio (driven by the real transport), its plan, its printout."""

from __future__ import annotations

import argparse
import base64
import os
import shlex
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from walker_channels.app import Settings
from walker_channels.exceptions import ConfigurationError, ProviderError
from walker_channels.models import Address, Channel, OutboundMessage
from walker_channels.signatures import SIGNATURE_HEADER, verify_twilio_signature
from walker_channels.testing import FixedClock, SimulatedTwilio
from walker_channels.twilio import RetrySettings, TwilioConfig, TwilioTransport
from walker_channels_fastapi.demo import DemoOptions, plan_demo
from walker_channels_fastapi.demo.banner import banner
from walker_channels_fastapi.demo.commands import register_simulate, simulated_request
from walker_channels_fastapi.demo.config import SIMULATED_ACCOUNT_SID

pytestmark = pytest.mark.anyio

TOKEN = "demo-twilio-token"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REPLY = OutboundMessage(
    channel=Channel.WHATSAPP,
    to=Address(channel=Channel.WHATSAPP, value="+14155552671"),
    sender=Address(channel=Channel.WHATSAPP, value="+14155238886"),
    text="Echo: hello",
)


def transport_to(simulator: SimulatedTwilio, *, token: str = TOKEN) -> TwilioTransport:
    """The real Twilio transport, its requests answered by ``simulator``."""

    def answer(request: httpx.Request) -> httpx.Response:
        account = request.url.path.split("/")[4]
        form = parse_qsl(request.content.decode(), keep_blank_values=True)
        status, body = simulator.create_message(account, request.headers.get("authorization"), form)
        return httpx.Response(status, json=body)

    config = TwilioConfig(
        account_sid=SIMULATED_ACCOUNT_SID,
        auth_token=token,
        api_base_url="http://127.0.0.1:8000/simulated-twilio",
        retry=RetrySettings.without_waits(attempts=1),
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return TwilioTransport(config, client=client)


@pytest.fixture(autouse=True)
def no_provider_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo reads the environment: these tests start from one without providers."""
    for name in list(os.environ):
        if name.startswith(("TWILIO_", "WALKER_", "SMTP_", "LANGFLOW_")):
            monkeypatch.delenv(name)


def basic_auth(user: str, password: str) -> str:
    """An ``Authorization: Basic`` header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def simulator() -> SimulatedTwilio:
    """A simulated Twilio for the demo account."""
    return SimulatedTwilio(
        account_sid=SIMULATED_ACCOUNT_SID, auth_token=TOKEN, clock=FixedClock(NOW)
    )


async def test_the_simulator_records_what_the_real_transport_sends(
    simulator: SimulatedTwilio,
) -> None:
    result = await transport_to(simulator).send(REPLY)

    [message] = simulator.messages
    assert result.provider_message_id == message.sid
    assert (message.to, message.sender, message.body) == (
        "whatsapp:+14155552671",
        "whatsapp:+14155238886",
        "Echo: hello",
    )
    assert message.status == "queued"


async def test_the_simulator_refuses_other_credentials_as_twilio_does(
    simulator: SimulatedTwilio,
) -> None:
    with pytest.raises(ProviderError) as refused:
        await transport_to(simulator, token="not-the-token").send(REPLY)

    assert refused.value.code == "20003"
    assert simulator.messages == ()


def test_the_simulator_refuses_messages_twilio_would_refuse(simulator: SimulatedTwilio) -> None:
    auth = basic_auth(SIMULATED_ACCOUNT_SID, TOKEN)
    no_to = simulator.create_message(SIMULATED_ACCOUNT_SID, auth, [("From", "whatsapp:+1")])
    no_body = simulator.create_message(SIMULATED_ACCOUNT_SID, auth, [("To", "x"), ("From", "y")])
    other_account = simulator.create_message("AC" + "0" * 32, auth, [("To", "x")])

    assert (no_to.status, no_to.body["code"]) == (400, 21604)
    assert (no_body.status, no_body.body["code"]) == (400, 21602)
    assert (other_account.status, other_account.body["code"]) == (404, 20404)


def test_a_delivery_step_moves_the_recorded_status(simulator: SimulatedTwilio) -> None:
    auth = basic_auth(SIMULATED_ACCOUNT_SID, TOKEN)
    form = [("To", "whatsapp:+14155552671"), ("From", "whatsapp:+14155238886"), ("Body", "hi")]
    sid = str(simulator.create_message(SIMULATED_ACCOUNT_SID, auth, form).body["sid"])

    simulator.set_status(sid, "delivered")

    assert [m.status for m in simulator.messages] == ["delivered"]
    assert simulator.set_status("SM-unknown", "delivered") is None


def test_without_credentials_every_provider_is_simulated_on_loopback() -> None:
    plan = plan_demo(Settings(), DemoOptions(host="0.0.0.0"), port=8123)  # noqa: S104

    assert plan.simulated_twilio
    assert plan.simulated_email
    assert not plan.langflow_agent
    assert plan.public_url == "http://127.0.0.1:8123"
    assert plan.settings.twilio_api_base_url == "http://127.0.0.1:8123/simulated-twilio"
    assert plan.twilio_token
    assert plan.api_token
    assert plan.settings.walker_database_url.endswith("walker-channels-demo.db")


def test_real_twilio_settings_serve_real_traffic() -> None:
    environment = Settings(
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="real-token",
        twilio_whatsapp_from="whatsapp:+14155550100",
        walker_public_url="https://demo.example.com/",
        walker_demo_token="t",
    )

    plan = plan_demo(environment, DemoOptions(), port=8000)

    assert not plan.simulated_twilio
    assert plan.business_number == "+14155550100"
    assert plan.settings.twilio_api_base_url == "https://api.twilio.com"
    assert plan.public_url == "https://demo.example.com"
    assert plan.api_token == "t"
    assert "real-token" not in banner(plan, database="SQLite file demo.db")


def test_real_twilio_without_a_sender_says_what_to_set() -> None:
    environment = Settings(twilio_account_sid="AC" + "1" * 32, twilio_auth_token="real-token")

    with pytest.raises(ConfigurationError, match="TWILIO_WHATSAPP_FROM"):
        plan_demo(environment, DemoOptions(), port=8000)


def test_the_database_is_the_given_file_else_the_configured_url(tmp_path: Path) -> None:
    configured = "postgresql://walker@127.0.0.1/walker"
    environment = Settings(walker_database_url=configured)
    given = DemoOptions(database=tmp_path / "mine.db")

    assert plan_demo(environment, given, port=1).settings.walker_database_url == (
        f"sqlite+aiosqlite:///{tmp_path / 'mine.db'}"
    )
    from_env = plan_demo(environment, DemoOptions(), port=1)
    assert from_env.settings.walker_database_url == configured


def test_the_printed_curl_is_signed_over_the_url_it_posts_to() -> None:
    plan = plan_demo(Settings(), DemoOptions(), port=8123)
    line = next(
        line for line in banner(plan, database="x").splitlines() if "whatsapp/webhook" in line
    )
    words = shlex.split(line)
    url = next(word for word in words if word.startswith("http"))
    signature = next(w for w in words if w.startswith(SIGNATURE_HEADER)).split(": ", 1)[1]
    form = dict(parse_qsl(words[words.index("--data-raw") + 1]))

    verify_twilio_signature(plan.twilio_token, url, form, signature)
    assert url == "http://127.0.0.1:8123/api/v1/channels/whatsapp/webhook"


def test_simulate_without_a_token_says_where_to_find_one() -> None:
    args = argparse.Namespace(token=None, url=None, body="hi", sender="+1415555267", to="+1")

    with pytest.raises(ConfigurationError, match="--token"):
        simulated_request(args, Settings())


def test_the_printed_simulate_line_keeps_tokens_that_start_with_a_dash() -> None:
    # A random token starts with "-" one time in 64: the printed line must still parse.
    environment = Settings(walker_demo_token="-Dash-token", twilio_auth_token="-twilio")
    plan = plan_demo(environment, DemoOptions(), port=8000)
    line = next(x for x in banner(plan, database="-").splitlines() if "--api-token" in x)
    parser = argparse.ArgumentParser()
    register_simulate(parser.add_subparsers())
    args = parser.parse_args(shlex.split(line)[1:])
    assert args.api_token == "-Dash-token"
    assert args.token == plan.twilio_token
