"""Looking a send up in Twilio's message list: the query, the pages and the match.

Twilio's Messages API has no idempotency key, but it can be read: ``GET .../Messages.json``
with ``To``, ``From`` and ``DateSent>`` (on or after a GMT date), newest first, in pages that
name the next one (``next_page_uri``). A send whose outcome was unknown is found by its
recipient, sender and body among the messages created since it was reserved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from walker_channels.models import LookupResult, LookupVerdict, OutboundMessage
from walker_channels.twilio.statuses import delivery_status

PAGE_SIZE = 100
MAX_PAGES = 20
CLOCK_SKEW = timedelta(minutes=2)
"""How far Twilio's clock may be behind ours: messages created this long before the
reservation still count."""


def lookup_params(form: Sequence[tuple[str, str]], since: datetime) -> dict[str, str]:
    """The query of the message list for the send that ``form`` made (``DateSent>``: GMT day)."""
    fields = dict(form)
    params = {"To": fields["To"], "PageSize": str(PAGE_SIZE)}
    if "From" in fields:
        params["From"] = fields["From"]
    params["DateSent>"] = (since - CLOCK_SKEW).astimezone(UTC).date().isoformat()
    return params


def undecidable(message: OutboundMessage) -> str | None:
    """Why a list cannot tell whether ``message`` went out, or ``None`` when it can."""
    if message.template is not None:
        return "a template's text is rendered by Twilio, so its body cannot be matched"
    return None


def candidates(
    page: Mapping[str, object], form: Sequence[tuple[str, str]], since: datetime
) -> list[Mapping[str, object]]:
    """The messages of one page that may be the send ``form`` made at ``since`` or later."""
    fields = dict(form)
    body = fields.get("Body", "")
    media = sum(1 for name, _ in form if name == "MediaUrl")
    service = fields.get("MessagingServiceSid")
    messages = page.get("messages")
    found = []
    for item in messages if isinstance(messages, list) else []:
        if not isinstance(item, Mapping):
            continue
        if not str(item.get("direction", "")).startswith("outbound"):
            continue
        if item.get("to") != fields["To"] or (item.get("body") or "") != body:
            continue
        if "From" in fields and item.get("from") != fields["From"]:
            continue
        if "From" not in fields and service and item.get("messaging_service_sid") != service:
            continue
        if str(item.get("num_media") or "0") != str(media):
            continue
        created = _time(item.get("date_created"))
        if created is None or created < since - CLOCK_SKEW:
            continue
        found.append(item)
    return found


def verdict(matches: Sequence[Mapping[str, object]]) -> LookupResult:
    """The lookup's result for the messages that matched across every page."""
    if not matches:
        return LookupResult(verdict=LookupVerdict.NOT_FOUND)
    if len(matches) > 1:
        return LookupResult(
            verdict=LookupVerdict.UNDECIDABLE,
            reason=f"{len(matches)} messages match; an operator must decide",
        )
    match = matches[0]
    sid, status = match.get("sid"), match.get("status")
    return LookupResult(
        verdict=LookupVerdict.FOUND,
        provider_message_id=sid if isinstance(sid, str) else None,
        status=delivery_status(status if isinstance(status, str) else None),
    )


def next_page(page: Mapping[str, object]) -> str | None:
    """The path of the next page, if there is one."""
    uri = page.get("next_page_uri")
    return uri if isinstance(uri, str) and uri else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None
