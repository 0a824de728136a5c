"""Signed inbound WhatsApp webhooks, as Twilio would post them, and the ``curl`` that sends one."""

from __future__ import annotations

import shlex
import uuid
from typing import NamedTuple

from walker_channels.testing import TwilioSigner
from walker_channels_fastapi.demo.config import (
    DEMO_BUSINESS_NUMBER,
    DEMO_PERSON,
    SIMULATED_ACCOUNT_SID,
)

WEBHOOK_PATH = "/api/v1/channels/whatsapp/webhook"


class SignedRequest(NamedTuple):
    """A form POST ready to send: where, which headers, which body."""

    url: str
    headers: dict[str, str]
    body: bytes


def new_message_sid() -> str:
    """A fresh, Twilio-shaped message SID (so no two simulated messages are duplicates)."""
    return "SM" + uuid.uuid4().hex


def inbound_form(
    text: str, *, sid: str, sender: str = DEMO_PERSON, to: str = DEMO_BUSINESS_NUMBER
) -> dict[str, str]:
    """The fields Twilio posts for an inbound WhatsApp text from ``sender`` to ``to``."""
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": SIMULATED_ACCOUNT_SID,
        "From": f"whatsapp:{sender}",
        "To": f"whatsapp:{to}",
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "ProfileName": "Ada",
        "WaId": sender.removeprefix("+"),
        "ApiVersion": "2010-04-01",
    }


def signed_inbound(
    base_url: str,
    auth_token: str,
    *,
    text: str,
    sender: str = DEMO_PERSON,
    to: str = DEMO_BUSINESS_NUMBER,
    sid: str | None = None,
) -> SignedRequest:
    """An inbound webhook to ``base_url``, signed with ``auth_token`` over its exact URL."""
    url = base_url.rstrip("/") + WEBHOOK_PATH
    form = inbound_form(text, sid=sid or new_message_sid(), sender=sender, to=to)
    headers, body = TwilioSigner(auth_token).form_request(url, form)
    return SignedRequest(url, headers, body)


def curl_command(request: SignedRequest) -> str:
    """One line of shell that sends ``request`` with ``curl`` (every part quoted)."""
    parts = ["curl", "-sS", "-i", "-X", "POST", request.url]
    for name, value in request.headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-raw", request.body.decode("ascii")]
    return shlex.join(parts)
