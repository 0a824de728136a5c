"""A simulated Twilio Messages API for the demo: it records what would have been sent.

The demo points ``TWILIO_API_BASE_URL`` at this simulator, so replies go through the real
:class:`~walker_channels.twilio.TwilioTransport` (Basic auth, form encoding, retries, the
Message resource) up to the wire. It answers the way ``api.twilio.com`` does where a client
can tell: 401 (20003) without the account's credentials, 404 (20404) for another account,
400 (21602/21603/21604) for a message that cannot be sent, else 201 with a Message resource.
Framework-neutral: :mod:`walker_channels_fastapi.demo.app` mounts it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from collections.abc import Sequence
from email.utils import format_datetime
from typing import NamedTuple

from pydantic import Field

from walker_channels.models import AwareDatetime
from walker_channels.models.base import Frozen
from walker_channels.ports import Clock

MESSAGES_PATH = "/2010-04-01/Accounts/{account_sid}/Messages.json"
"""The Messages resource, below the simulator's base URL (as below ``api.twilio.com``)."""

_ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
}


class SimulatedMessage(Frozen):
    """One message the simulator accepted: what Twilio would have delivered."""

    sid: str
    to: str
    sender: str | None
    """The ``From`` field (absent when only a messaging service was named)."""
    body: str | None
    media_urls: tuple[str, ...] = ()
    content_sid: str | None = None
    """The approved template sent instead of free text, if any."""
    content_variables: str | None = None
    status_callback: str | None = Field(default=None, exclude=True)
    status: str = "queued"
    created_at: AwareDatetime


class SimulatedAnswer(NamedTuple):
    """The HTTP answer to one request: status code and JSON body."""

    status: int
    body: dict[str, object]


class SimulatedTwilio:
    """Twilio's ``Messages.json`` create endpoint for one account, recording every message."""

    def __init__(self, *, account_sid: str, auth_token: str, clock: Clock) -> None:
        self.account_sid = account_sid
        self._credentials = f"{account_sid}:{auth_token}".encode()
        self._clock = clock
        self._messages: dict[str, SimulatedMessage] = {}

    @property
    def messages(self) -> tuple[SimulatedMessage, ...]:
        """Every accepted message, oldest first, with its latest delivery status."""
        return tuple(self._messages.values())

    def create_message(
        self, account_sid: str, authorization: str | None, form: Sequence[tuple[str, str]]
    ) -> SimulatedAnswer:
        """Answer ``POST .../Accounts/{account_sid}/Messages.json`` with this form."""
        if not self._authorized(authorization):
            return _error(20003)
        if account_sid != self.account_sid:
            return _error(20404)
        fields = _Form(form)
        problem = _unsendable(fields)
        if problem is not None:
            return _error(problem)
        message = self._record(fields)
        return SimulatedAnswer(201, self._resource(message))

    def set_status(self, sid: str, status: str) -> SimulatedMessage | None:
        """Move a recorded message to ``status`` (as Twilio's delivery would); None if unknown."""
        message = self._messages.get(sid)
        if message is None:
            return None
        self._messages[sid] = updated = message.model_copy(update={"status": status})
        return updated

    def _authorized(self, authorization: str | None) -> bool:
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return False
        return hmac.compare_digest(given, self._credentials)

    def _record(self, fields: _Form) -> SimulatedMessage:
        message = SimulatedMessage(
            sid="SM" + uuid.uuid4().hex,
            to=fields.first("To") or "",
            sender=fields.first("From"),
            body=fields.first("Body"),
            media_urls=tuple(fields.all("MediaUrl")),
            content_sid=fields.first("ContentSid"),
            content_variables=fields.first("ContentVariables"),
            status_callback=fields.first("StatusCallback"),
            created_at=self._clock.now(),
        )
        self._messages[message.sid] = message
        return message

    def _resource(self, message: SimulatedMessage) -> dict[str, object]:
        created = format_datetime(message.created_at, usegmt=True)
        path = MESSAGES_PATH.format(account_sid=self.account_sid)
        return {
            "sid": message.sid,
            "account_sid": self.account_sid,
            "to": message.to,
            "from": message.sender,
            "body": message.body or "",
            "status": message.status,
            "num_media": str(len(message.media_urls)),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": created,
            "date_updated": created,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "uri": path.removesuffix(".json") + f"/{message.sid}.json",
        }


class _Form:
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = pairs

    def first(self, name: str) -> str | None:
        return next((value for key, value in self._pairs if key == name and value), None)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name and value]


def _unsendable(fields: _Form) -> int | None:
    if fields.first("To") is None:
        return 21604
    if fields.first("From") is None and fields.first("MessagingServiceSid") is None:
        return 21603
    if not any(fields.first(name) for name in ("Body", "MediaUrl", "ContentSid")):
        return 21602
    return None


def _error(code: int) -> SimulatedAnswer:
    status, message = _ERRORS[code]
    return SimulatedAnswer(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )
