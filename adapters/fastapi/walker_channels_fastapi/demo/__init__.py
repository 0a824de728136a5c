"""The ``walker-channels demo``: every endpoint on a local SQLite file, no credentials needed.

A newcomer runs ``walker-channels demo``; it serves the FastAPI router with the echo agent and,
unless ``TWILIO_*`` is set, a simulated Twilio Messages API
(:class:`walker_channels.testing.SimulatedTwilio`) that the real Twilio transport posts to.
``walker-channels simulate`` sends a signed inbound message. The CLI finds these commands
through the ``walker_channels.cli`` entry point, so the core never imports this package.
"""

from __future__ import annotations

from walker_channels_fastapi.demo.config import (
    DEMO_BUSINESS_NUMBER,
    DEMO_PERSON,
    DEMO_SMS_NUMBER,
    DEMO_TENANT,
    DemoOptions,
    DemoPlan,
    plan_demo,
)
from walker_channels_fastapi.demo.inbound import SignedRequest, curl_command, signed_inbound

__all__ = [
    "DEMO_BUSINESS_NUMBER",
    "DEMO_PERSON",
    "DEMO_SMS_NUMBER",
    "DEMO_TENANT",
    "DemoOptions",
    "DemoPlan",
    "SignedRequest",
    "curl_command",
    "plan_demo",
    "signed_inbound",
]
