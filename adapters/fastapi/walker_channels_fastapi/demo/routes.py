"""The demo's own HTTP routes (FastAPI): the simulated Twilio API, and what it recorded.

The library's endpoints come from :func:`walker_channels_fastapi.create_router`; these are
the demo's stand-ins for providers. ``GET /demo/messages`` and ``GET /demo/emails`` show
what was "sent" (numbers and text included, as a provider's console would), so they need
the demo's bearer token.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.responses import JSONResponse

from walker_channels.exceptions import WalkerError
from walker_channels.models import Principal
from walker_channels.models.base import Frozen
from walker_channels.testing.simulated_twilio import SimulatedMessage, SimulatedTwilio
from walker_channels.web import error_response, read_limited, require_superuser
from walker_channels_fastapi.demo.banner import EMAILS_PATH, MESSAGES_PATH
from walker_channels_fastapi.demo.config import SIMULATOR_PREFIX
from walker_channels_fastapi.demo.status_reports import DeliveryReporter

PrincipalDependency = Callable[..., Principal | None]
SIMULATOR_BODY_LIMIT = 64 * 1024


class MessageList(Frozen):
    """The simulated Twilio's outgoing messages, oldest first."""

    messages: tuple[SimulatedMessage, ...]


class RecordedEmail(Frozen):
    """An email the demo printed instead of sending."""

    to: str
    subject: str
    message_id: str
    text: str


class EmailList(Frozen):
    """The demo's emails, oldest first."""

    emails: tuple[RecordedEmail, ...]


def simulator_router(simulator: SimulatedTwilio, reporter: DeliveryReporter) -> APIRouter:
    """Twilio's Messages API at ``/simulated-twilio`` (left out of the OpenAPI document)."""
    router = APIRouter(prefix=SIMULATOR_PREFIX, include_in_schema=False)

    @router.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
    async def create_message(
        account_sid: str, request: Request, background: BackgroundTasks
    ) -> Response:
        try:
            body = await read_limited(request.stream(), SIMULATOR_BODY_LIMIT)
        except WalkerError as exc:
            return _error(exc)
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        answer = simulator.create_message(account_sid, request.headers.get("authorization"), form)
        if answer.status == 201:
            background.add_task(reporter.report, str(answer.body["sid"]))
        return JSONResponse(answer.body, status_code=answer.status)

    return router


def outbox_router(
    principal: PrincipalDependency,
    *,
    simulator: SimulatedTwilio | None,
    emails: list[EmailMessage] | None,
) -> APIRouter:
    """``GET /demo/messages`` and ``GET /demo/emails`` for the demo's superuser."""
    router = APIRouter(tags=["demo"])
    if simulator is not None:

        async def list_messages(who: Principal | None) -> Any:
            return _for_superuser(who, lambda: MessageList(messages=simulator.messages))

        _add_read(router, MESSAGES_PATH, list_messages, principal, MessageList, "Twilio outbox")
    if emails is not None:

        async def list_emails(who: Principal | None) -> Any:
            return _for_superuser(
                who, lambda: EmailList(emails=tuple(_recorded(email) for email in emails))
            )

        _add_read(router, EMAILS_PATH, list_emails, principal, EmailList, "Emails printed")
    return router


def _add_read(
    router: APIRouter,
    path: str,
    view: Callable[..., Any],
    principal: PrincipalDependency,
    model: type[Frozen],
    summary: str,
) -> None:
    # Set as an object, not a string: FastAPI cannot resolve the closure's ``principal`` by name.
    view.__annotations__["who"] = Annotated[Principal | None, Depends(principal)]
    router.add_api_route(path, view, methods=["GET"], response_model=model, summary=summary)


def _for_superuser(who: Principal | None, answer: Callable[[], Frozen]) -> Any:
    try:
        require_superuser(who)
    except WalkerError as exc:
        return _error(exc)
    return answer()


def _error(exc: WalkerError) -> Response:
    neutral = error_response(exc)
    return Response(neutral.body, status_code=neutral.status, headers=dict(neutral.headers))


def _recorded(email: EmailMessage) -> RecordedEmail:
    part = email.get_body(preferencelist=("plain",))
    text = part.get_content() if isinstance(part, EmailMessage) else ""
    return RecordedEmail(
        to=str(email["To"]),
        subject=str(email["Subject"]),
        message_id=str(email["Message-ID"]),
        text=str(text),
    )
