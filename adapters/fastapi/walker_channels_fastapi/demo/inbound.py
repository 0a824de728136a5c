"""Signed inbound webhooks (WhatsApp or SMS), as Twilio would post them, and the ``curl`` that
sends one."""

from __future__ import annotations

import shlex
import uuid
from typing import NamedTuple

from walker_channels.models import Address, Channel
from walker_channels.testing import TwilioSigner
from walker_channels_fastapi.demo.config import (
    DEMO_BUSINESS_NUMBER,
    DEMO_PERSON,
    SIMULATED_ACCOUNT_SID,
)

WEBHOOK_PATH = "/api/v1/channels/whatsapp/webhook"
SMS_WEBHOOK_PATH = "/api/v1/channels/sms/webhook"
WEBHOOK_PATHS = {Channel.WHATSAPP: WEBHOOK_PATH, Channel.SMS: SMS_WEBHOOK_PATH}


class SignedRequest(NamedTuple):
    """A form POST ready to send: where, which headers, which body."""

    url: str
    headers: dict[str, str]
    body: bytes


def new_message_sid() -> str:
    """A fresh, Twilio-shaped message SID (so no two simulated messages are duplicates)."""
    return "SM" + uuid.uuid4().hex


def inbound_form(
    text: str,
    *,
    sid: str,
    sender: str = DEMO_PERSON,
    to: str = DEMO_BUSINESS_NUMBER,
    channel: Channel = Channel.WHATSAPP,
) -> dict[str, str]:
    """The fields Twilio posts for an inbound text on ``channel`` from ``sender`` to ``to``."""
    form = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": SIMULATED_ACCOUNT_SID,
        "From": Address(channel=channel, value=sender).wire,
        "To": Address(channel=channel, value=to).wire,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    if channel is Channel.WHATSAPP:
        form |= {"ProfileName": "Ada", "WaId": sender.removeprefix("+")}
    else:
        form |= {"SmsStatus": "received", "FromCountry": "US", "ToCountry": "US"}
    return form


def signed_inbound(
    base_url: str,
    auth_token: str,
    *,
    text: str,
    sender: str = DEMO_PERSON,
    to: str = DEMO_BUSINESS_NUMBER,
    sid: str | None = None,
    channel: Channel = Channel.WHATSAPP,
) -> SignedRequest:
    """An inbound webhook to ``base_url``, signed with ``auth_token`` over its exact URL."""
    url = base_url.rstrip("/") + WEBHOOK_PATHS[channel]
    form = inbound_form(text, sid=sid or new_message_sid(), sender=sender, to=to, channel=channel)
    headers, body = TwilioSigner(auth_token).form_request(url, form)
    return SignedRequest(url, headers, body)


def curl_command(request: SignedRequest) -> str:
    """One line of shell that sends ``request`` with ``curl`` (every part quoted)."""
    parts = ["curl", "-sS", "-i", "-X", "POST", request.url]
    for name, value in request.headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-raw", request.body.decode("ascii")]
    return shlex.join(parts)
