"""The ``walker-channels demo``: every endpoint on a local SQLite file, no credentials needed.

A newcomer runs ``walker-channels demo``; it serves the FastAPI router with the echo agent and,
unless ``TWILIO_*`` is set, a simulated Twilio Messages API that the real Twilio transport
posts to (:class:`SimulatedTwilio`). ``walker-channels simulate`` sends a signed inbound
message. Everything here is framework-neutral; ``walker_channels_fastapi.demo`` serves it
with FastAPI and uvicorn (the ``all`` extra).
"""

from __future__ import annotations

from walker_channels.demo.config import (
    DEMO_BUSINESS_NUMBER,
    DEMO_PERSON,
    DEMO_TENANT,
    DemoOptions,
    DemoPlan,
    plan_demo,
)
from walker_channels.demo.inbound import SignedRequest, curl_command, signed_inbound
from walker_channels.demo.simulated_twilio import SimulatedAnswer, SimulatedMessage, SimulatedTwilio

__all__ = [
    "DEMO_BUSINESS_NUMBER",
    "DEMO_PERSON",
    "DEMO_TENANT",
    "DemoOptions",
    "DemoPlan",
    "SignedRequest",
    "SimulatedAnswer",
    "SimulatedMessage",
    "SimulatedTwilio",
    "curl_command",
    "plan_demo",
    "signed_inbound",
]
