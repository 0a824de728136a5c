"""Custom emails: a template with data, or a subject and a body, to one validated recipient."""

from __future__ import annotations

from pydantic import Field, model_validator

from walker_channels.emails import email_address
from walker_channels.models import DeliveryStatus
from walker_channels.models.base import Frozen, JsonObject
from walker_channels.services.email.outbox import EmailDraft, EmailOutbox
from walker_channels.services.email.templates import TemplateCatalog, TemplateInfo

CUSTOM_MESSAGE_TEMPLATE = "custom_message"


class EmailSendRequest(Frozen):
    """Send one email: ``template_name`` with ``data``, or ``subject`` with ``body``.

    The body is plain text (blank lines separate paragraphs); it is put into the
    ``custom_message`` template as data, escaped in the HTML part, never run as a template.
    """

    tenant_id: str = Field(min_length=1)
    recipient_email: str = Field(min_length=3, max_length=320, repr=False)
    template_name: str | None = None
    data: JsonObject = Field(default_factory=dict)
    subject: str | None = Field(default=None, min_length=1, max_length=998)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    list_unsubscribe_url: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _template_or_text(self) -> EmailSendRequest:
        by_text = self.subject is not None or self.body is not None
        if self.template_name is not None and by_text:
            raise ValueError("give either template_name (with data) or subject and body")
        if self.template_name is None and (self.subject is None or self.body is None):
            raise ValueError("give template_name (with data), or both subject and body")
        if self.template_name is None and self.data:
            raise ValueError("data is for templates: give template_name too")
        return self


class EmailReceipt(Frozen):
    """What happened to a sent email: its Message-ID, and the template it was rendered from."""

    provider_message_id: str | None
    status: DeliveryStatus
    template_name: str
    participant: str
    """The recipient's pseudonym, as the event log records it."""


class EmailService:
    """Renders and sends custom emails, and lists the templates they can use.

    Whether the caller may act for ``tenant_id`` is decided before (by the web layer).
    """

    def __init__(self, *, outbox: EmailOutbox, templates: TemplateCatalog) -> None:
        self._outbox = outbox
        self._templates = templates

    def templates(self) -> list[TemplateInfo]:
        """Every template's metadata (the templates listing)."""
        return self._templates.list()

    async def send(self, request: EmailSendRequest) -> EmailReceipt:
        """Validate, render and send ``request``; failures are recorded and raised."""
        to = email_address(request.recipient_email)
        name = request.template_name or CUSTOM_MESSAGE_TEMPLATE
        data: JsonObject = (
            request.data
            if request.template_name is not None
            else {"subject_line": request.subject, "body": request.body}
        )
        content = self._templates.render(
            name, data, list_unsubscribe_url=request.list_unsubscribe_url
        )
        draft = EmailDraft(
            tenant_id=request.tenant_id,
            to=to,
            content=content,
            purpose="custom",
            data={"template": name},
        )
        result = await self._outbox.deliver(draft)
        return EmailReceipt(
            provider_message_id=result.provider_message_id,
            status=result.status,
            template_name=name,
            participant=self._outbox.participant(to),
        )
