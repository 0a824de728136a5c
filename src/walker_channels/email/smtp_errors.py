"""aiosmtplib's exceptions translated to ours, with whether a retry can help.

SMTP's reply codes carry the answer: 4xx is temporary (try again later), 5xx permanent.
A dropped connection or a timeout is temporary. The server's reply text is not passed on:
it often quotes the recipient address.
"""

from __future__ import annotations

import ssl

import aiosmtplib

from walker_channels.exceptions import ProviderError, TransportError


def is_temporary(code: int | None) -> bool:
    """Whether an SMTP reply code is a temporary failure (4xx)."""
    return code is not None and 400 <= code < 500


def translate_smtp_error(exc: BaseException) -> TransportError:
    """Our error for an aiosmtplib (or socket) failure; never quotes the server's text."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0].code if exc.recipients else None
        return _reply("the SMTP server refused the recipient", first)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return _reply(
            "the SMTP server refused the login: check SMTP_USERNAME and SMTP_PASSWORD", exc.code
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return _reply("the SMTP server refused the sender: check SMTP_FROM", exc.code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _reply("the SMTP server refused the message", exc.code)
    if _caused_by(exc, ssl.SSLCertVerificationError):
        return TransportError(
            "the SMTP server's TLS certificate did not verify: check SMTP_HOST", retryable=False
        )
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return TransportError("the SMTP server did not answer in time", retryable=True)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return TransportError(
            "the SMTP server lacks a feature this configuration needs (STARTTLS, AUTH or "
            "SMTPUTF8): check SMTP_SECURITY and the server",
            retryable=False,
        )
    if isinstance(exc, ConnectionError | OSError):
        return TransportError("the connection to the SMTP server failed or dropped", retryable=True)
    return TransportError(f"sending over SMTP failed ({type(exc).__name__})", retryable=False)


def _reply(what: str, code: int | None) -> ProviderError:
    return ProviderError(
        f"{what} (SMTP {code})",
        retryable=is_temporary(code),
        code=None if code is None else str(code),
    )


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # a bounded walk down the __cause__ chain
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
