"""The ``walker-channels demo`` server: FastAPI and uvicorn around :mod:`walker_channels.demo`.

The demo's framework-neutral parts (its plan, services, simulated Twilio, printout) live in
``walker_channels.demo``; this package serves them, so the core imports no web framework.
"""

from __future__ import annotations

from walker_channels_fastapi.demo.app import bearer_principal, create_demo_app
from walker_channels_fastapi.demo.server import run_demo

__all__ = ["bearer_principal", "create_demo_app", "run_demo"]
