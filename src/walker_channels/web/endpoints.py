"""An endpoint: method, path, who may call it, its handler, and the models that document it.

Adapters register one framework route per :class:`Endpoint` and call
:meth:`~walker_channels.web.api.HttpApi.handle`; the models are only read to describe the
endpoint (OpenAPI), the handler parses the request itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel

from walker_channels.models import Principal
from walker_channels.web.auth import Access
from walker_channels.web.requests import FORM_CONTENT_TYPE, NeutralRequest, NeutralResponse

Handler = Callable[[NeutralRequest, Principal | None], Awaitable[NeutralResponse]]
"""Answers a request; the principal has passed the endpoint's :class:`Access` check."""

JSON_CONTENT_TYPE = "application/json"
_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Endpoint:
    """One HTTP endpoint of the library. ``path`` uses ``{name}`` for path parameters."""

    name: str
    method: str
    path: str
    access: Access
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    body_media_type: str = JSON_CONTENT_TYPE
    body_required: bool = True
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    """``None`` for the Twilio endpoints, which answer TwiML."""
    status_code: int = 200
    errors: tuple[int, ...] = ()
    """Error statuses besides those every endpoint of its kind can answer (for the docs)."""

    @property
    def path_params(self) -> tuple[str, ...]:
        """The names of the path parameters, in order."""
        return tuple(_PATH_PARAM.findall(self.path))

    @property
    def error_statuses(self) -> tuple[int, ...]:
        """Every error status this endpoint can answer, for its documentation."""
        statuses = {400, 422, *self.errors}
        statuses |= {403} if self.access is Access.PROVIDER else {401, 403}
        if self.method != "GET":
            statuses.add(413)
        return tuple(sorted(statuses))

    @property
    def is_form(self) -> bool:
        """Whether the body is an url-encoded form (the Twilio webhooks)."""
        return self.body_media_type == FORM_CONTENT_TYPE
