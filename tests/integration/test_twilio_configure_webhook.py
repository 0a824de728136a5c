"""``walker-channels twilio configure-webhook`` as a user runs it, against the Twilio-like
server: it finds the number in IncomingPhoneNumbers and points its SmsUrl and StatusCallback
at ``WALKER_PUBLIC_URL``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from walker_channels.testing.twilio_server import ACCOUNT_SID, AUTH_TOKEN, TwilioLikeServer

pytestmark = pytest.mark.anyio

NUMBER = "+14155550122"
PUBLIC = "https://walker.example.com/"


async def configure(server: TwilioLikeServer, *args: str, **env: str) -> tuple[int, str, str]:
    """Run the command in a subprocess (the server keeps answering on this loop)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WALKER_", "TWILIO_"))}
    environ |= {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": server.base_url,
        "WALKER_PUBLIC_URL": PUBLIC,
        **env,
    }
    script = Path(sys.executable).with_name("walker-channels")
    process = await asyncio.create_subprocess_exec(
        str(script),
        "twilio",
        "configure-webhook",
        *args,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_numbers_webhook_urls_point_at_the_public_url() -> None:
    async with TwilioLikeServer() as server:
        other = server.simulator.own_number("+14155550133")
        server.simulator.own_number(NUMBER)
        status, out, err = await configure(server, "--number", NUMBER)
        assert status == 0, err
        [number] = [n for n in server.simulator.numbers if n.phone_number == NUMBER]
        assert number.sms_url == "https://walker.example.com/api/v1/channels/sms/webhook"
        assert number.status_callback == "https://walker.example.com/api/v1/channels/sms/status"
        assert (number.sms_method, number.status_callback_method) == ("POST", "POST")
        assert other in server.simulator.numbers  # untouched
        listed, updated = server.received
        assert (listed.method, updated.method) == ("GET", "POST")
        assert "PhoneNumber=%2B14155550122" in listed.path
        assert listed.basic_auth() == (ACCOUNT_SID, AUTH_TOKEN)
        assert updated.path.endswith(f"/IncomingPhoneNumbers/{number.sid}.json")
        assert number.sms_url in out


async def test_refusals_are_clear_and_change_nothing() -> None:
    async with TwilioLikeServer() as server:
        server.simulator.own_number(NUMBER)
        cases = [
            (("--number", "+14155550199"), {}, "no such number"),
            (("--number", "+1415555"), {}, "not a valid phone number"),
            (("--number", f"whatsapp:{NUMBER}"), {}, "WhatsApp sender"),
            (("--number", NUMBER), {"WALKER_PUBLIC_URL": ""}, "set WALKER_PUBLIC_URL"),
            (("--number", NUMBER), {"TWILIO_AUTH_TOKEN": "wrong"}, "Twilio answered 401"),
        ]
        for args, env, reason in cases:
            status, _, err = await configure(server, *args, **env)
            assert status == 2, args
            assert reason in err, err
            assert "Traceback" not in err
        [number] = server.simulator.numbers
        assert number.sms_url == ""
