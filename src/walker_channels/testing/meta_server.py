"""A Graph-API-like server for the Cloud API's messages endpoint, over real HTTP on 127.0.0.1.

:class:`GraphLikeServer` takes ``POST /{version}/{phone_number_id}/messages`` with a bearer
token and answers as ``graph.facebook.com`` does: the documented success body (``contacts``
and ``messages[0].id``, a wamid) or the documented error body (``{"error": {"message",
"type", "code", "error_subcode", "fbtrace_id"}}``) for a wrong token, an unknown phone number
id or an invalid payload. Its own refusals always win; otherwise a test scripts the next
answers (errors, 429 with or without ``Retry-After``, a connection dropped after the request
arrived) and reads what arrived. :meth:`GraphLikeServer.status_notification` writes the
``statuses`` webhook Meta would send for a message it accepted.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from walker_channels.testing.loopback_http import (
    LoopbackServer,
    RawRequest,
    json_response,
    read_request,
)

ACCESS_TOKEN = "loopback-graph-token"  # noqa: S105 - the loopback server's well-known test token
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
WABA_ID = "102290129340398"
_TYPES = frozenset(
    {"text", "image", "audio", "video", "document", "sticker", "template", "interactive"}
    | {"location", "contacts", "reaction"}
)


class GraphRequest(RawRequest):
    """One request as the server read it (header names in lower case)."""

    def json(self) -> Any:
        """The body as JSON (``None`` when it is not JSON)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class SentMessage:
    """A message the server accepted: from which phone number id, what was posted, its wamid."""

    phone_number_id: str
    payload: Mapping[str, Any]
    wamid: str


@dataclass(frozen=True)
class Answer:
    """A scripted answer to a valid send: an error body, or ``drop`` (close without a word).

    A dropped request was read whole, so it counts as accepted (it is in ``sent``): the
    client cannot know, which is the point.
    """

    status: int = 200
    body: Mapping[str, object] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


def graph_error(
    http_status: int,
    code: int,
    *,
    message: str = "(#100) Invalid parameter",
    subcode: int | None = None,
    retry_after: str | None = None,
) -> Answer:
    """An error answer in the Graph API's shape."""
    error: dict[str, object] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjKlMnOp",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Answer(status=http_status, body={"error": error}, headers=headers)


def rate_limited(code: int = 130429, *, retry_after: str | None = None) -> Answer:
    """A 429 with Meta's rate-limit body (throughput by default)."""
    return graph_error(429, code, message="(#130429) Rate limit hit", retry_after=retry_after)


def dropped() -> Answer:
    """Read the request, then close the connection without answering (outcome unknown)."""
    return Answer(drop=True)


class GraphLikeServer(LoopbackServer):
    """The server; ``async with`` starts it on a free port of 127.0.0.1 in the running loop."""

    def __init__(
        self,
        *,
        access_token: str = ACCESS_TOKEN,
        phone_number_ids: tuple[str, ...] = (PHONE_NUMBER_ID,),
    ) -> None:
        super().__init__()
        self.access_token = access_token
        self.phone_number_ids = phone_number_ids
        self.received: list[GraphRequest] = []
        self.sent: list[SentMessage] = []
        self._script: list[Answer] = []
        self._ids = itertools.count(1)

    def script(self, *answers: Answer) -> None:
        """Use these answers for the next valid sends, in order; then accept again."""
        self._script.extend(answers)

    def status_notification(
        self, wamid: str, status: str, *, errors: list[dict[str, object]] | None = None
    ) -> dict[str, object]:
        """The ``statuses`` webhook Meta sends when the message ``wamid`` reaches ``status``."""
        sent = next(message for message in self.sent if message.wamid == wamid)
        item: dict[str, object] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": str(sent.payload.get("to", "")).removeprefix("+"),
        }
        opaque = sent.payload.get("biz_opaque_callback_data")
        if opaque:
            item["biz_opaque_callback_data"] = opaque
        if errors:
            item["errors"] = errors
        metadata = {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": sent.phone_number_id,
        }
        value = {"messaging_product": "whatsapp", "metadata": metadata, "statuses": [item]}
        change = {"value": value, "field": "messages"}
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [change]}],
        }

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        raw = await read_request(reader)
        if raw is None:
            return False
        request = GraphRequest(raw.method, raw.path, raw.headers, raw.body)
        self.received.append(request)
        refusal = self._refusal(request)
        if refusal is not None:
            answer = refusal
        else:
            answer = self._script.pop(0) if self._script else Answer()
            if answer.body is None or answer.drop:
                accepted = self._accept(request)
                answer = Answer(body=accepted, drop=answer.drop, delay=answer.delay)
        await asyncio.sleep(answer.delay)
        if answer.drop:
            return False
        writer.write(_http_response(answer))
        await writer.drain()
        return True

    def _refusal(self, request: GraphRequest) -> Answer | None:
        """The Graph API's own answer to a request it would refuse, else ``None``."""
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return graph_error(
                401, 190, message="Invalid OAuth access token - Cannot parse access token"
            )
        parts = request.path.split("?", 1)[0].strip("/").split("/")
        if request.method != "POST" or len(parts) != 3 or parts[2] != "messages":
            return graph_error(400, 100, message="Unknown path components")
        if not parts[0].startswith("v") or parts[1] not in self.phone_number_ids:
            return graph_error(
                400,
                100,
                subcode=33,
                message="Unsupported post request. Object with ID does not exist",
            )
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return graph_error(
                400, 100, message="(#100) The parameter messaging_product is required"
            )
        return _invalid_payload(request.json())

    def _accept(self, request: GraphRequest) -> dict[str, object]:
        payload = request.json()
        number = next(self._ids)
        wamid = (
            "wamid." + base64.b64encode(f"HBgLMTY1MDM4Nzk0MzkVAgAR{number:08d}".encode()).decode()
        )
        phone_number_id = request.path.strip("/").split("/")[1]
        self.sent.append(SentMessage(phone_number_id, payload, wamid))
        to = str(payload["to"])
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.removeprefix("+")}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }


def _invalid_payload(payload: Any) -> Answer | None:
    if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
        return graph_error(400, 100, message="(#100) The parameter messaging_product is required")
    kind = payload.get("type", "text")
    if not isinstance(payload.get("to"), str) or kind not in _TYPES:
        return graph_error(400, 100, message="(#100) Invalid parameter")
    content = payload.get(kind)
    if not isinstance(content, dict):
        return graph_error(400, 100, message=f"(#100) The parameter {kind} is required")
    if kind == "text" and not (isinstance(content.get("body"), str) and content["body"]):
        return graph_error(400, 100, message="(#100) The parameter text['body'] is required")
    if kind == "text" and len(content["body"]) > 4096:
        return graph_error(400, 100, message="(#100) Param text['body'] must be at most 4096")
    if kind in ("image", "audio", "video", "document", "sticker") and not (
        content.get("link") or content.get("id")
    ):
        return graph_error(400, 131009, message="(#131009) Parameter value is not valid")
    language = content.get("language")
    if kind == "template" and not (
        content.get("name") and isinstance(language, dict) and language.get("code")
    ):
        return graph_error(400, 131008, message="(#131008) Required parameter is missing")
    return None


def _http_response(answer: Answer) -> bytes:
    return json_response(answer.status, answer.body or {}, answer.headers)
