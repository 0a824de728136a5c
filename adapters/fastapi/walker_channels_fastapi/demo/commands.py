"""``walker-channels demo`` and ``walker-channels simulate``.

``demo`` serves every endpoint locally (SQLite file, echo agent, simulated Twilio unless
``TWILIO_*`` is set) and prints a ready ``curl`` for each step. ``simulate`` sends one signed
inbound WhatsApp message (or SMS, with ``--channel sms``) to a running server. The web
dependencies are imported only when ``demo`` runs (the ``all`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import httpx

from walker_channels.app import Settings
from walker_channels.exceptions import ConfigurationError, MissingDependency, WalkerError
from walker_channels.models import Channel
from walker_channels.phones import normalize_phone
from walker_channels_fastapi.demo.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEMO_BUSINESS_NUMBER,
    DEMO_PERSON,
    DEMO_SMS_NUMBER,
    DemoOptions,
)
from walker_channels_fastapi.demo.follow import AdminReads, Before
from walker_channels_fastapi.demo.inbound import SignedRequest, signed_inbound

SIMULATE_TIMEOUT_SECONDS = 10.0
_DEFAULT_TO = {Channel.WHATSAPP: DEMO_BUSINESS_NUMBER, Channel.SMS: DEMO_SMS_NUMBER}
"""The demo tenant's number on each channel ``simulate`` writes on."""
_WEB_MODULES = frozenset({"fastapi", "uvicorn", "starlette", "sqlalchemy", "aiosqlite", "jinja2"})


def register_demo(subparsers: Any) -> None:
    """Add ``demo`` to the ``walker-channels`` command (entry point ``walker_channels.cli``)."""
    demo = subparsers.add_parser("demo", help="run a local demo server (no credentials needed)")
    demo.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free port)")
    demo.add_argument("--confidence", type=_unit_interval, help="the echo agent's confidence")
    demo.add_argument("--db", type=Path, help="SQLite file (default walker-channels-demo.db)")
    demo.set_defaults(handler=_demo)


def register_simulate(subparsers: Any) -> None:
    """Add ``simulate`` to the ``walker-channels`` command (entry point ``walker_channels.cli``)."""
    simulate = subparsers.add_parser(
        "simulate", help="send a signed inbound WhatsApp message (or SMS)"
    )
    simulate.add_argument("--url", help="server base URL (default WALKER_PUBLIC_URL or :8000)")
    simulate.add_argument(
        "--channel",
        choices=[channel.value for channel in _DEFAULT_TO],
        default=Channel.WHATSAPP.value,
        help="whatsapp (default) or sms: which webhook, and how From and To are written",
    )
    simulate.add_argument("--from", dest="sender", default=DEMO_PERSON, help="who writes")
    simulate.add_argument(
        "--to",
        help=f"the tenant's number (default {DEMO_BUSINESS_NUMBER}, for SMS {DEMO_SMS_NUMBER})",
    )
    simulate.add_argument("--body", default="Hello from walker-channels simulate")
    simulate.add_argument("--token", help="Twilio auth token to sign with (TWILIO_AUTH_TOKEN)")
    simulate.add_argument(
        "--api-token",
        help="the demo's API token (WALKER_DEMO_TOKEN): print the draft the message made",
    )
    simulate.set_defaults(handler=_simulate)


def _demo(args: argparse.Namespace) -> int:
    options = DemoOptions(
        host=args.host, port=args.port, confidence=args.confidence, database=args.db
    )
    try:
        from walker_channels_fastapi.demo.server import run_demo
    except ModuleNotFoundError as exc:
        if exc.name not in _WEB_MODULES:
            raise
        return _fail("demo", MissingDependency("walker-channels demo", "all"))
    try:
        return run_demo(options, Settings())
    except (WalkerError, OSError) as exc:
        return _fail("demo", exc)


def _simulate(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        request = simulated_request(args, settings)
    except WalkerError as exc:
        return _fail("simulate", exc)
    reads, before = _admin_reads(args, settings, request)
    try:
        response = httpx.post(
            request.url, content=request.body, headers=request.headers,
            timeout=SIMULATE_TIMEOUT_SECONDS,
        )  # fmt: skip
    except httpx.HTTPError as exc:
        reason = f"could not reach {request.url} ({type(exc).__name__}): is the server running?"
        return _fail("simulate", ConfigurationError(reason))
    print(f"POST {request.url} -> HTTP {response.status_code}")
    if response.status_code >= 400:
        print(response.text, file=sys.stderr)
    if reads is not None and before is not None and response.is_success:
        try:
            lines = reads.follow(before, console_path=settings.web_config().console_path)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            lines = [f"(could not follow the message to the review queue: {exc})"]
        print("\n".join(lines), flush=True)
    if reads is not None:
        reads.close()
    return 0 if response.is_success else 1


def _admin_reads(
    args: argparse.Namespace, settings: Settings, request: SignedRequest
) -> tuple[AdminReads | None, Before | None]:
    """The admin reads with the API token, and what they see before the message is sent."""
    configured = settings.walker_demo_token
    token = args.api_token or (configured.get_secret_value() if configured else None)
    if not token:
        return None, None
    base = request.url.split("/api/v1/", 1)[0]
    reads = AdminReads(base, token, Channel(args.channel))
    try:
        return reads, reads.before()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        print(f"(not following the draft: the review queue could not be read: {exc})")
        return reads, None


def simulated_request(args: argparse.Namespace, settings: Settings) -> SignedRequest:
    """The signed webhook ``simulate`` sends (a fresh MessageSid each time)."""
    configured = settings.twilio_auth_token
    token = args.token or (configured.get_secret_value() if configured is not None else None)
    if not token:
        raise ConfigurationError(
            "no token to sign with: pass --token (walker-channels demo prints it) "
            "or set TWILIO_AUTH_TOKEN"
        )
    url = args.url or settings.walker_public_url or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    channel = Channel(args.channel)
    return signed_inbound(
        url,
        token,
        text=args.body,
        sender=normalize_phone(args.sender.removeprefix("whatsapp:")),
        to=normalize_phone((args.to or _DEFAULT_TO[channel]).removeprefix("whatsapp:")),
        channel=channel,
    )


def _unit_interval(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError("the confidence is a number from 0 to 1, e.g. 0.3")
    return number


def _fail(command: str, error: Exception) -> int:
    print(f"walker-channels {command}: {error}", file=sys.stderr)
    return 2
