"""Turning an outbound email into MIME: multipart/alternative, headers, attachments."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, EmailPolicy
from email.utils import format_datetime, make_msgid

from walker_channels.exceptions import InvalidInput
from walker_channels.models import EmailContent, OutboundMessage

UNFOLDED_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})


class _OneLineListHeaders(EmailPolicy):
    """The SMTP policy, except that List-Unsubscribe stays on one line.

    Some DKIM signers break on a folded List-Unsubscribe, and the stdlib would fold (even
    encode) a long unsubscribe URL at 78 characters.
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        """Fold like the SMTP policy, but never the List-Unsubscribe headers."""
        if name.lower() in UNFOLDED_HEADERS:
            return f"{name}: {value}{self.linesep}".encode()
        return super().fold_binary(name, value)


WIRE_POLICY = _OneLineListHeaders() + SMTP
WIRE_POLICY_UTF8 = _OneLineListHeaders() + SMTPUTF8


def build_email(
    message: OutboundMessage, *, sender: str, message_id_domain: str, now: datetime
) -> EmailMessage:
    """The MIME message for ``message``: text/plain then text/html, then any attachments."""
    content = _email_content(message)
    mime = EmailMessage(policy=SMTP)
    mime["From"] = sender
    mime["To"] = message.to.value
    mime["Subject"] = " ".join(content.subject.split())
    mime["Date"] = format_datetime(now)
    mime["Message-ID"] = make_msgid(domain=message_id_domain)
    _add_unsubscribe(mime, content.list_unsubscribe_url)
    mime.set_content(content.text)
    if content.html is not None:
        mime.add_alternative(content.html, subtype="html")
    for attachment in content.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return mime


def readdressed(mime: EmailMessage, *, sender: str, recipient: str) -> EmailMessage:
    """A copy of ``mime`` with other From and To headers: same Message-ID, date and body.

    The SMTP transport uses it to spell internationalised domains in IDNA for a server that
    cannot take UTF-8 headers.
    """
    copy = deepcopy(mime)
    copy.replace_header("From", sender)
    copy.replace_header("To", recipient)
    return copy


def to_wire(mime: EmailMessage, *, utf8: bool = False) -> bytes:
    """The bytes to hand to the SMTP server (CRLF line ends, List-Unsubscribe unfolded)."""
    return mime.as_bytes(policy=WIRE_POLICY_UTF8 if utf8 else WIRE_POLICY)


def _email_content(message: OutboundMessage) -> EmailContent:
    if message.email is None:
        raise InvalidInput("an email message needs email content (subject and text)")
    return message.email


def _add_unsubscribe(mime: EmailMessage, url: str | None) -> None:
    if url is None:
        return
    if not url.isascii() or any(char in url for char in '<>"\r\n\t ') or ":" not in url:
        raise InvalidInput("list_unsubscribe_url must be one https: or mailto: URL (ASCII)")
    mime["List-Unsubscribe"] = f"<{url}>"
    if url.lower().startswith("https://"):
        # RFC 8058 one-click: mail clients POST this body to the https URI (ignored for others).
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
