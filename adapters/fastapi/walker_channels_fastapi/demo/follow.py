"""What ``walker-channels simulate`` reports after its message: the draft it made, if any.

With the demo's API token, ``simulate`` notes the pending drafts and the latest reply before
it sends; afterwards it polls the admin API until a new draft appears (its approval id and
the ready ``curl`` that approves it are printed) or a new reply went out without one.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from typing import Any

import httpx

from walker_channels.models import Channel

QUEUE_PATH = "/api/v1/admin/hitl/review-queue"
LOG_PATH = "/api/v1/admin/conversations/whatsapp"
FOLLOW_SECONDS = 15.0
"""How long to wait for the agent's answer (longer than the default agent timeout)."""
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Before:
    """The admin API's state before the message: pending drafts and the latest reply."""

    drafts: frozenset[str]
    last_reply: str | None


class AdminReads:
    """The two admin reads ``simulate`` needs, with the demo's API token."""

    def __init__(self, base_url: str, api_token: str, channel: Channel) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_token = api_token
        self._channel = channel
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_token}"},
            timeout=10.0,
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def drafts(self) -> dict[str, dict[str, Any]]:
        """The pending drafts by approval id."""
        answer = self._client.get(QUEUE_PATH, params={"limit": 200})
        answer.raise_for_status()
        return {item["approval_id"]: item for item in answer.json()["items"]}

    def last_reply(self) -> str | None:
        """The id of the latest outbound log entry on the channel."""
        params: dict[str, str | int] = {
            "channel": self._channel.value,
            "direction": "outbound",
            "limit": 1,
        }
        answer = self._client.get(LOG_PATH, params=params)
        answer.raise_for_status()
        items = answer.json()["items"]
        return str(items[0]["id"]) if items else None

    def before(self) -> Before:
        """What is there before the message is sent."""
        return Before(frozenset(self.drafts()), self.last_reply())

    def follow(self, before: Before, *, console_path: str) -> list[str]:
        """The lines to print once the agent has answered (or the wait ran out)."""
        deadline = time.monotonic() + FOLLOW_SECONDS
        while time.monotonic() < deadline:
            replied = self.last_reply() != before.last_reply  # read first: a draft comes before
            new = [item for key, item in self.drafts().items() if key not in before.drafts]
            if new:
                return self._held(new[-1], console_path)
            if replied:
                return ["The agent answered; nothing waits for review."]
            time.sleep(POLL_SECONDS)
        return [
            f"No draft seen within {FOLLOW_SECONDS:.0f} s; the review queue:",
            self._curl("GET", QUEUE_PATH),
        ]

    def _held(self, item: dict[str, Any], console_path: str) -> list[str]:
        approval_id = str(item["approval_id"])
        lines = [
            f"Held for review: approval {approval_id} (confidence {item['confidence']}, "
            f"{str(item['reason']).replace('_', ' ')}). Approve it:",
            self._curl("POST", f"/api/v1/admin/hitl/{approval_id}/approve"),
        ]
        if console_path:
            lines.append(f"or in the console: {self.base_url}{console_path}/review/{approval_id}")
        return lines

    def _curl(self, method: str, path: str) -> str:
        parts = ["curl", "-sS"] + (["-X", method] if method != "GET" else [])
        parts += ["-H", f"Authorization: Bearer {self.api_token}", self.base_url + path]
        return shlex.join(parts)
