"""A simulated Twilio Messages API: it answers as ``api.twilio.com`` does and records what it took.

The one Twilio emulation of the library. It answers the way ``api.twilio.com`` does where a
client can tell: 401 (20003) without the account's credentials, 404 (20404) for another
account or another resource, 400 (21602/21603/21604) for a message that cannot be sent, else
201 with a Message resource. It is framework-neutral and does no I/O: the demo mounts it
(:mod:`walker_channels_fastapi.demo.routes`), and
:class:`~walker_channels.testing.twilio_server.TwilioLikeServer` serves it over real HTTP on
127.0.0.1, so the real :class:`~walker_channels.twilio.TwilioTransport` (Basic auth, form
encoding, retries, the Message resource) runs up to the wire.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import NamedTuple
from urllib.parse import urlencode

from pydantic import Field

from walker_channels.models import AwareDatetime
from walker_channels.models.base import Frozen
from walker_channels.ports import Clock

MESSAGES_PATH = "/2010-04-01/Accounts/{account_sid}/Messages.json"
"""The Messages resource, below the simulator's base URL (as below ``api.twilio.com``)."""
NUMBERS_PATH = "/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json"
"""The IncomingPhoneNumbers list resource (``GET ?PhoneNumber=``)."""
NUMBER_PATH = "/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json"
"""One IncomingPhoneNumber (``POST`` updates it)."""
_NUMBER_FIELDS = {
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
}

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
    messaging_service_sid: str | None = None
    body: str | None
    media_urls: tuple[str, ...] = ()
    content_sid: str | None = None
    """The approved template sent instead of free text, if any."""
    content_variables: str | None = None
    status_callback: str | None = Field(default=None, exclude=True)
    status: str = "queued"
    created_at: AwareDatetime
    sent: bool = True
    """Whether it left Twilio's queue (then ``date_sent`` is ``created_at``); a test may hold
    it queued, when it has no ``date_sent`` and no date filter lists it."""


class SimulatedNumber(Frozen):
    """One of the account's phone numbers (an IncomingPhoneNumber) and its webhook URLs."""

    sid: str
    phone_number: str
    sms_url: str = ""
    sms_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"


class SimulatedAnswer(NamedTuple):
    """The HTTP answer to one request: status code and JSON body."""

    status: int
    body: dict[str, object]


class SimulatedTwilio:
    """Twilio's ``Messages.json`` create endpoint for one account, recording every message.

    Requests authenticate as the account (``account_sid`` with ``auth_token``) or, with
    ``api_key_sid``, as that API key, ``auth_token`` being the key's secret.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        clock: Clock,
        api_key_sid: str | None = None,
    ) -> None:
        self.account_sid = account_sid
        self._credentials = f"{api_key_sid or account_sid}:{auth_token}".encode()
        self._clock = clock
        self._messages: dict[str, SimulatedMessage] = {}
        self._numbers: dict[str, SimulatedNumber] = {}

    @property
    def messages(self) -> tuple[SimulatedMessage, ...]:
        """Every accepted message, oldest first, with its latest delivery status."""
        return tuple(self._messages.values())

    @property
    def numbers(self) -> tuple[SimulatedNumber, ...]:
        """The account's phone numbers, as last updated."""
        return tuple(self._numbers.values())

    def own_number(self, phone_number: str) -> SimulatedNumber:
        """Give the account ``phone_number`` (E.164), as buying it would; returns it."""
        number = SimulatedNumber(sid="PN" + uuid.uuid4().hex, phone_number=phone_number)
        self._numbers[number.sid] = number
        return number

    def numbers_answer(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        form: Sequence[tuple[str, str]],
    ) -> SimulatedAnswer | None:
        """The IncomingPhoneNumbers answer of a request :meth:`refusal` let through, else None.

        ``GET`` the list filters on ``PhoneNumber`` (exact); ``POST`` to one number updates the
        webhook fields Twilio names ``SmsUrl``, ``SmsMethod``, ``StatusCallback`` and
        ``StatusCallbackMethod`` and answers the resource.
        """
        if method == "GET" and path == NUMBERS_PATH.format(account_sid=self.account_sid):
            wanted = dict(query).get("PhoneNumber")
            listed = [n for n in self._numbers.values() if wanted in (None, n.phone_number)]
            return SimulatedAnswer(
                200, {"incoming_phone_numbers": [self._number(n) for n in listed], "page": 0}
            )
        sid = self._number_sid(path)
        if method != "POST" or sid is None:
            return None
        changes = {_NUMBER_FIELDS[key]: value for key, value in form if key in _NUMBER_FIELDS}
        self._numbers[sid] = updated = self._numbers[sid].model_copy(update=changes)
        return SimulatedAnswer(200, self._number(updated))

    def _number_sid(self, path: str) -> str | None:
        """The SID in a path to one of the account's numbers, else None."""
        head, tail = NUMBER_PATH.format(account_sid=self.account_sid, sid="\n").split("\n")
        sid = path.removeprefix(head).removesuffix(tail)
        matches = path.startswith(head) and path.endswith(tail)
        return sid if matches and sid in self._numbers else None

    def _number(self, number: SimulatedNumber) -> dict[str, object]:
        path = NUMBER_PATH.format(account_sid=self.account_sid, sid=number.sid)
        return {"account_sid": self.account_sid, "uri": path, **number.model_dump()}

    def create_message(
        self, account_sid: str, authorization: str | None, form: Sequence[tuple[str, str]]
    ) -> SimulatedAnswer:
        """Answer ``POST .../Accounts/{account_sid}/Messages.json`` with this form."""
        path = MESSAGES_PATH.format(account_sid=account_sid)
        return self.refusal("POST", path, authorization, form) or self.accept(form)

    def refusal(
        self,
        method: str,
        path: str,
        authorization: str | None,
        form: Sequence[tuple[str, str]],
    ) -> SimulatedAnswer | None:
        """Twilio's own refusal of a request to ``path`` (below the base URL), or None.

        Authentication comes first, as on ``api.twilio.com``: a stranger learns nothing about
        which accounts or resources exist.
        """
        if not self._authorized(authorization):
            return _refused(20003)
        if (method, path) == ("GET", NUMBERS_PATH.format(account_sid=self.account_sid)):
            return None
        if method == "POST" and self._number_sid(path) is not None:
            return None
        if method not in ("GET", "POST") or path != MESSAGES_PATH.format(
            account_sid=self.account_sid
        ):
            return _refused(20404)
        if method == "GET":
            return None
        problem = _unsendable(_Form(form))
        return None if problem is None else _refused(problem)

    def accept(
        self, form: Sequence[tuple[str, str]], *, status: str | None = None
    ) -> SimulatedAnswer:
        """Record the message of a form :meth:`refusal` let through; 201 with its resource.

        Its initial ``status`` is Twilio's: ``accepted`` when a messaging service was named,
        else ``queued``. A test may pass another one.
        """
        message = self._record(_Form(form), status)
        return SimulatedAnswer(201, self._resource(message))

    def list_messages(self, query: Sequence[tuple[str, str]]) -> SimulatedAnswer:
        """Answer ``GET .../Messages.json``: the messages matching the filters, newest first.

        As Twilio documents: ``To`` and ``From`` match exactly; ``DateSent`` keeps the messages
        sent on that GMT day, ``DateSent>`` (``DateSent>=`` in a URL) those sent on or after it
        and ``DateSent<`` those on or before it (a date, or a time ``YYYY-MM-DDThh:mm:ssZ``); a
        message not sent yet has no ``date_sent`` and matches no date filter. Pages of
        ``PageSize`` (50 by default, at most 1000), ``Page`` counting from 0; each names the
        next one in ``next_page_uri`` (``None`` on the last).
        """
        params = dict(query)
        try:
            size = min(max(int(params.get("PageSize", "50")), 1), 1000)
            number = max(int(params.get("Page", "0")), 0)
            matching = [m for m in self._messages.values() if _listed(m, params)]
        except ValueError:
            return error_answer(400, 20001, "Invalid query parameter")
        matching.sort(key=lambda m: (m.created_at, m.sid), reverse=True)
        page = matching[number * size : (number + 1) * size]
        path = MESSAGES_PATH.format(account_sid=self.account_sid)
        base = {k: v for k, v in params.items() if k not in ("Page", "PageToken")}
        more = (number + 1) * size < len(matching)
        return SimulatedAnswer(
            200,
            {
                "messages": [self._resource(m, listed=True) for m in page],
                "page": number,
                "page_size": size,
                "start": number * size,
                "end": number * size + max(len(page) - 1, 0),
                "uri": _page_uri(path, base, number),
                "first_page_uri": _page_uri(path, base, 0),
                "next_page_uri": _page_uri(path, base, number + 1) if more else None,
                "previous_page_uri": _page_uri(path, base, number - 1) if number else None,
            },
        )

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

    def _record(self, fields: _Form, status: str | None) -> SimulatedMessage:
        service = fields.first("MessagingServiceSid")
        message = SimulatedMessage(
            sid="SM" + uuid.uuid4().hex,
            to=fields.first("To") or "",
            sender=fields.first("From"),
            messaging_service_sid=service,
            body=fields.first("Body"),
            media_urls=tuple(fields.all("MediaUrl")),
            content_sid=fields.first("ContentSid"),
            content_variables=fields.first("ContentVariables"),
            status_callback=fields.first("StatusCallback"),
            status=status or ("accepted" if service else "queued"),
            created_at=self._clock.now(),
        )
        self._messages[message.sid] = message
        return message

    def _resource(self, message: SimulatedMessage, *, listed: bool = False) -> dict[str, object]:
        created = format_datetime(message.created_at, usegmt=True)
        # Read back later, a message has left the queue: it was sent when it was created.
        sent = created if listed and message.sent else None
        uri = MESSAGES_PATH.format(account_sid=self.account_sid).removesuffix(".json")
        uri += f"/{message.sid}"
        return {
            "sid": message.sid,
            "account_sid": self.account_sid,
            "to": message.to,
            "from": message.sender,
            "messaging_service_sid": message.messaging_service_sid,
            "body": message.body or "",
            "status": message.status,
            "num_media": str(len(message.media_urls)),
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": created,
            "date_updated": created,
            "date_sent": sent,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": None,
            "uri": f"{uri}.json",
            "subresource_uris": {"media": f"{uri}/Media.json"},
        }


def error_answer(status: int, code: int, message: str) -> SimulatedAnswer:
    """An error as Twilio's REST API shapes it: ``code``, ``message``, ``more_info``, ``status``."""
    body: dict[str, object] = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return SimulatedAnswer(status, body)


class _Form:
    """The non-empty values of a form, by name (Twilio treats an empty field as absent)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            if value:
                self._values.setdefault(key, []).append(value)

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])


def _unsendable(fields: _Form) -> int | None:
    if fields.first("To") is None:
        return 21604
    if fields.first("From") is None and fields.first("MessagingServiceSid") is None:
        return 21603
    if not any(fields.first(name) for name in ("Body", "MediaUrl", "ContentSid")):
        return 21602
    return None


def _refused(code: int) -> SimulatedAnswer:
    status, message = _ERRORS[code]
    return error_answer(status, code, message)


def _listed(message: SimulatedMessage, params: dict[str, str]) -> bool:
    """Whether ``message`` passes the list filters (raises ValueError for a bad date)."""
    if "To" in params and message.to != params["To"]:
        return False
    if "From" in params and message.sender != params["From"]:
        return False
    for name, keep in _DATE_FILTERS.items():
        if name in params and not (
            message.sent and keep(message.created_at, _filter_time(params[name]))
        ):
            return False
    return True


def _filter_time(value: str) -> tuple[datetime, bool]:
    """The time of a date filter and whether it is a whole day."""
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC), True
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), False


def _on(at: datetime, when: tuple[datetime, bool]) -> bool:
    start, day = when
    return start <= at < start + timedelta(days=1) if day else at == start


def _after(at: datetime, when: tuple[datetime, bool]) -> bool:
    return at >= when[0]


def _before(at: datetime, when: tuple[datetime, bool]) -> bool:
    start, day = when
    return at < start + timedelta(days=1) if day else at <= start


_DATE_FILTERS = {"DateSent": _on, "DateSent>": _after, "DateSent<": _before}


def _page_uri(path: str, params: dict[str, str], number: int) -> str:
    query = {**params, "Page": str(number), "PageToken": f"PA{number}"}
    return f"{path}?{urlencode(query)}"
