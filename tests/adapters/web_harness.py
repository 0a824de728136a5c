"""The harness of the adapter suite: one app behind FastAPI or Flask, and request helpers.

The services are real (SQLite file store with its migrations, the conversation and review
services, the echo agent); only the providers are replaced, by recording transports. Each
test talks HTTP through an ``httpx.Client``: Starlette's TestClient for FastAPI, httpx's WSGI
transport for Flask. Any 5xx answer fails the test that caused it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import urlsplit

import flask
import httpx
from fastapi import Cookie, FastAPI, Header
from fastapi.testclient import TestClient

from walker_channels import SIGNATURE_HEADER, Channel, Principal
from walker_channels.agents import echo_agent
from walker_channels.app import Services, Settings, build_services
from walker_channels.models import AgentRequest, BriefMetric
from walker_channels.ports import AgentRunner, Dispatcher
from walker_channels.services import ServiceConfig
from walker_channels.services.email import StaticBriefData
from walker_channels.sql import SqlStores
from walker_channels.telemetry import Telemetry
from walker_channels.testing import RecordingTransport, TwilioSigner
from walker_channels.web.console import SESSION_COOKIE
from walker_channels_fastapi import create_router
from walker_channels_flask import WalkerChannels
from walker_channels_flask.testing import SettledTransport

BASE_URL = "https://walker.example.com"
AUTH_TOKEN = "twilio-auth-token-for-tests"
PSEUDONYM_KEY = "pseudonym-key-for-tests-0123456789"
TENANT_A, TENANT_B = "tenant-a", "tenant-b"
NUMBER_A, NUMBER_B = "+14155550100", "+14155550111"
PERSON = "+14155552671"
PERSON_EMAIL = "ada.lovelace@example.com"
TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2

WEBHOOK = "/api/v1/channels/whatsapp/webhook"
STATUS = "/api/v1/channels/whatsapp/status"
SEND_WHATSAPP = "/api/v1/channels/whatsapp/send"
SMS_WEBHOOK = "/api/v1/channels/sms/webhook"
SMS_STATUS = "/api/v1/channels/sms/status"
SEND_SMS = "/api/v1/channels/sms/send"
EMAIL = "/api/v1/channels/email"
ADMIN = "/api/v1/admin"
ADMIN_READS = (
    f"{ADMIN}/conversations/whatsapp",
    f"{ADMIN}/conversations/stats",
    f"{ADMIN}/analytics/walker-agents",
    f"{ADMIN}/hitl/review-queue",
)

PRINCIPALS = {
    "root": Principal(user_id="root", is_superuser=True),
    "alice": Principal(user_id="alice", tenant_ids=frozenset({TENANT_A})),
    "bob": Principal(user_id="bob", tenant_ids=frozenset({TENANT_B})),
}
"""Bearer token -> caller, as the host application's auth would decide."""

_sids = itertools.count(1)


def new_sid() -> str:
    """A fresh Twilio-shaped message SID."""
    return f"SM{next(_sids):032x}"


def as_user(name: str) -> dict[str, str]:
    """The Authorization header of one of :data:`PRINCIPALS`."""
    return {"Authorization": f"Bearer {name}"}


def _principal_for(authorization: str | None, session: str | None = None) -> Principal | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme == "Bearer":
        return PRINCIPALS.get(token)
    return PRINCIPALS.get(session or "")  # the reviewer console's session cookie


def fastapi_principal(
    authorization: Annotated[str | None, Header()] = None,
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> Principal | None:
    """The host's FastAPI dependency (a bearer token, or the console's session cookie)."""
    return _principal_for(authorization, session)


def flask_principal() -> Principal | None:
    """The host's Flask principal function (a bearer token, or the console's session cookie)."""
    request = flask.request
    return _principal_for(request.headers.get("Authorization"), request.cookies.get(SESSION_COOKIE))


def _confidence(request: AgentRequest) -> float:
    # The echo agent is unsure about refunds, so those go to human review.
    return 0.2 if "refund" in request.text.lower() else 0.9


@dataclass
class Harness:
    """A running app behind one adapter, its recording transports, and request helpers."""

    adapter: str
    client: httpx.Client
    services: Services
    run: Callable[[Callable[[], Awaitable[object]]], object]
    """Runs an async callable on the app's event loop (where the services live)."""
    whatsapp: RecordingTransport
    email: RecordingTransport
    signer: TwilioSigner

    def inbound(
        self,
        text: str = "hello",
        *,
        sid: str | None = None,
        sender: str = PERSON,
        to: str = NUMBER_A,
        url: str = BASE_URL + WEBHOOK,
        signer: TwilioSigner | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST an inbound WhatsApp webhook, signed over ``url`` (unsigned if ``signer`` is None
        and the harness signer is removed by passing ``headers`` without the signature)."""
        params = inbound_form(text, sid=sid or new_sid(), sender=sender, to=to)
        return self.signed_post(WEBHOOK, params, url=url, signer=signer, headers=headers)

    def signed_post(
        self,
        path: str,
        params: dict[str, str],
        *,
        url: str | None = None,
        signer: TwilioSigner | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a Twilio-style form to ``path``, signed over ``url`` (default: the real URL)."""
        signed, body = (signer or self.signer).form_request(url or BASE_URL + path, params)
        return self.client.post(path, content=body, headers={**signed, **(headers or {})})

    def unsigned_post(self, path: str, params: dict[str, str]) -> httpx.Response:
        """POST a Twilio-style form without any signature."""
        headers, body = self.signer.form_request(BASE_URL + path, params)
        del headers[SIGNATURE_HEADER]
        return self.client.post(path, content=body, headers=headers)

    def get(self, path: str, user: str | None = "root", **params: Any) -> httpx.Response:
        """GET ``path`` as ``user`` (``None``: anonymous)."""
        return self.client.get(path, params=params, headers=as_user(user) if user else {})

    def post(self, path: str, json: Any = None, user: str | None = "root") -> httpx.Response:
        """POST JSON to ``path`` as ``user`` (``None``: anonymous)."""
        headers = as_user(user) if user else {}
        return self.client.post(path, json=json, headers=headers)


MakeApp = Callable[..., Harness]
"""Starts an app with settings overrides by field name (the ``make_app`` fixture)."""


def inbound_form(
    text: str, *, sid: str, sender: str = PERSON, to: str = NUMBER_A
) -> dict[str, str]:
    """The form Twilio posts for an inbound WhatsApp text."""
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": f"whatsapp:{sender}",
        "To": f"whatsapp:{to}",
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Ada",
        "WaId": sender.removeprefix("+"),
    }


ECHO = echo_agent(confidence=_confidence)
"""The harness's default agent; pass ``agent=None`` to build the one the settings name."""


def build_test_services(
    database: Path,
    *,
    agent: AgentRunner | None = ECHO,
    service_config: ServiceConfig | None = None,
    twilio_api: str | None = None,
    dispatcher: Dispatcher | None = None,
    telemetry: Telemetry | None = None,
    **overrides: Any,
) -> tuple[Services, RecordingTransport, RecordingTransport]:
    """Services on a SQLite file with the test tenants, recording transports, the echo agent
    (``agent=None``: the agent ``build_services`` builds from the settings, e.g. Langflow).

    With ``twilio_api`` (a Twilio-like server's base URL) the real Twilio transports send
    WhatsApp and SMS there, from ``NUMBER_A``, instead of the recording ones. ``dispatcher``
    replaces the built-in one ``walker_webhook_processing`` picks; ``telemetry`` gets the
    flow's spans and metrics."""
    defaults: dict[str, Any] = {
        "walker_database_url": f"sqlite+aiosqlite:///{database}",
        "walker_pseudonym_key": PSEUDONYM_KEY,
        "twilio_auth_token": AUTH_TOKEN,
        "walker_allowed_hosts": urlsplit(BASE_URL).hostname,
    }
    if twilio_api is not None:
        # The real Twilio transports, talking to a Twilio-like server (TwilioLikeServer).
        defaults |= {
            "twilio_api_base_url": twilio_api,
            "twilio_account_sid": TWILIO_ACCOUNT_SID,
            "twilio_whatsapp_from": f"whatsapp:{NUMBER_A}",
            "twilio_sms_from": NUMBER_A,
        }
    settings = Settings(**{**defaults, **overrides})
    whatsapp, email = RecordingTransport(Channel.WHATSAPP), RecordingTransport(Channel.EMAIL)
    recording = twilio_api is None

    async def seed_tenants(services: Services) -> None:
        stores = cast(SqlStores, services.stores)
        await stores.tenants.add_number(TENANT_A, f"whatsapp:{NUMBER_A}")
        await stores.tenants.add_number(TENANT_A, NUMBER_A)  # its SMS number too
        await stores.tenants.add_number(TENANT_B, f"whatsapp:{NUMBER_B}")  # WhatsApp only

    services = build_services(
        settings,
        agent=agent,
        service_config=service_config,
        whatsapp_transport=whatsapp if recording else None,
        sms_transport=RecordingTransport(Channel.SMS) if recording else None,
        email_transport=email,
        brief_data=StaticBriefData([BriefMetric(label="Replies sent", value=42)]),
        on_start=[seed_tenants],
        dispatcher=dispatcher,
        telemetry=telemetry,
    )
    return services, whatsapp, email


def _fail_on_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, (
        f"{response.request.url.path} answered {response.status_code}"
    )


@contextmanager
def running_app(
    adapter: str,
    database: Path,
    *,
    agent: AgentRunner | None = ECHO,
    service_config: ServiceConfig | None = None,
    prefix: str = "",
    dispatcher: Dispatcher | None = None,
    telemetry: Telemetry | None = None,
    **overrides: Any,
) -> Iterator[Harness]:
    """Serve fresh services through ``adapter`` (below ``prefix``); settings ``overrides`` by
    field name."""
    services, whatsapp, email = build_test_services(
        database,
        agent=agent,
        service_config=service_config,
        dispatcher=dispatcher,
        telemetry=telemetry,
        **overrides,
    )
    with ExitStack() as stack:
        run: Callable[[Callable[[], Awaitable[object]]], object]
        if adapter == "fastapi":
            app = FastAPI()
            app.include_router(create_router(services, principal=fastapi_principal, prefix=prefix))
            test_client = stack.enter_context(TestClient(app, base_url=BASE_URL))
            client: httpx.Client = test_client
            run = test_client.portal.call  # type: ignore[union-attr]
        else:
            flask_app = flask.Flask(__name__)
            WalkerChannels(services, principal=flask_principal, prefix=prefix).init_app(flask_app)
            stack.callback(WalkerChannels.shutdown, flask_app)
            # Start the services now, as FastAPI's lifespan does, and let the sweeper's start-up
            # pass (over an empty queue) end: started by the first webhook instead, that pass
            # could claim the webhook's message, and SettledTransport waits only for the
            # after-response work, not for the sweeper's.
            WalkerChannels.call(flask_app, asyncio.sleep, 0.5)
            transport = SettledTransport(flask_app)  # returns once its background work ran
            client = stack.enter_context(httpx.Client(transport=transport, base_url=BASE_URL))
            run = partial(WalkerChannels.call, flask_app)
        client.event_hooks = {"request": [], "response": [_fail_on_server_error]}
        signer = TwilioSigner(AUTH_TOKEN)
        yield Harness(adapter, client, services, run, whatsapp, email, signer)
