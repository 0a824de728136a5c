"""Custom emails: a template with data, or a subject and a body, to one validated recipient."""

from __future__ import annotations

import uuid

from pydantic import Field, model_validator

from walker_channels.emails import email_address
from walker_channels.exceptions import ConfigurationError, DeliveryUnknown, TransportError
from walker_channels.models import (
    Address,
    Channel,
    DeliveryStatus,
    EmailContent,
    OutboundMessage,
    OutboundState,
)
from walker_channels.models.base import Frozen, JsonObject
from walker_channels.services.email.templates import TemplateCatalog, TemplateInfo
from walker_channels.services.outbound import OutboundSender
from walker_channels.services.sending import SendContext, SendPurpose, SendReceipt

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
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    """A retry with the same key (per tenant) sends nothing again; ``None``: never deduplicated."""

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
    duplicate: bool = False
    """The idempotency key was used already: this email was not sent again."""


class EmailService:
    """Renders and sends custom emails, and lists the templates they can use.

    Whether the caller may act for ``tenant_id`` is decided before (by the web layer).
    """

    def __init__(self, *, sender: OutboundSender, templates: TemplateCatalog) -> None:
        if Channel.EMAIL not in sender.channels:
            raise ConfigurationError("the email service needs a sender with an email transport")
        self._sender = sender
        self._templates = templates

    def templates(self) -> list[TemplateInfo]:
        """Every template's metadata (the templates listing)."""
        return self._templates.list()

    async def send(self, request: EmailSendRequest) -> EmailReceipt:
        """Validate, render and send ``request`` once per idempotency key.

        Failures are recorded and raised (a :class:`~walker_channels.exceptions.TransportError`).
        """
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
        context = SendContext(
            purpose=SendPurpose.CUSTOM_EMAIL,
            cause=request.idempotency_key or uuid.uuid4().hex,
            tenant_id=request.tenant_id,
            data={"template": name},
        )
        receipt = await send_email(self._sender, to, content, context)
        return EmailReceipt(
            provider_message_id=receipt.provider_message_id,
            status=DeliveryStatus.SENT,
            template_name=name,
            participant=self._sender.participant(to),
            duplicate=receipt.duplicate,
        )


async def send_email(
    sender: OutboundSender, to: Address, content: EmailContent, context: SendContext
) -> SendReceipt:
    """Send ``content`` to ``to`` once per ``context.key``; the receipt says it went out.

    It went out now, or before under the same key (``duplicate``). A failure is raised as the
    transport raised it (it is recorded already). A duplicate whose first send is still under
    way is a retryable error; one whose outcome is unknown is never sent again blindly.
    """
    message = OutboundMessage(channel=Channel.EMAIL, to=to, email=content)
    receipt = (await sender.send(message, context)).raise_for_failure()
    if receipt.state is OutboundState.PENDING:
        raise TransportError("an earlier send of this email is still under way", retryable=True)
    if receipt.state is not OutboundState.SENT:
        raise DeliveryUnknown("an earlier send of this email may have gone out: not sent again")
    return receipt
