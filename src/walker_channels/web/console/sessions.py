"""Browser sessions and CSRF tokens of the reviewer console: cookies in, cookies and tokens out.

The console never decides who a caller is: the host's principal hook does, for pages as for
the API. Its login form only keeps the token a reviewer typed in an HttpOnly, SameSite cookie
(:data:`SESSION_COOKIE`) that the hook reads (:func:`session_token`), as it reads an
``Authorization: Bearer`` header. Every form carries a CSRF token: an HMAC, under a key derived
from the pseudonym key, of the caller and the credential they came with, so no state is kept
and any number of processes agree.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from walker_channels.exceptions import InvalidInput, PermissionDenied
from walker_channels.models import Principal
from walker_channels.web.requests import Headers

SESSION_COOKIE = "walker_console_session"
"""The cookie that holds the token a reviewer signed in with."""
LOGIN_COOKIE = "walker_console_login"
"""A random value the sign-in form's CSRF token is bound to (there is no session yet)."""
CSRF_FIELD = "csrf_token"
"""The form field every console form sends its token in."""
LOGIN_COOKIE_SECONDS = 3600
"""How long a sign-in form stays valid."""
MAX_TOKEN_LENGTH = 4096
# RFC 6265 cookie-octet: a token made of these is kept in the cookie exactly as typed.
_COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+")
_KEY_LABEL = b"walker-channels console csrf v1"


def request_cookies(headers: Headers) -> dict[str, str]:
    """The cookies of a request, the first value of each name."""
    found: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        name, sep, value = part.strip().partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if sep and name and name not in found:
            found[name] = value
    return found


def session_token(headers: Headers) -> str | None:
    """The token in the console's session cookie, for a host's principal hook to check."""
    return request_cookies(headers).get(SESSION_COOKIE) or None


def checked_token(token: str) -> str:
    """``token`` as typed into the sign-in form, if a cookie can hold it unchanged."""
    token = token.strip()
    if not token:
        raise InvalidInput("enter your token to sign in")
    if len(token) > MAX_TOKEN_LENGTH or not _COOKIE_OCTETS.fullmatch(token):
        raise InvalidInput("that token has characters a session cookie cannot hold")
    return token


def cookie(name: str, value: str, *, path: str, secure: bool, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value: HttpOnly and SameSite=Lax always, Secure over HTTPS."""
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def expired_cookie(name: str, *, path: str, secure: bool) -> str:
    """A ``Set-Cookie`` value that removes the cookie ``name``."""
    return cookie(name, "", path=path, secure=secure, max_age=0)


def new_nonce() -> str:
    """A fresh random value for :data:`LOGIN_COOKIE`."""
    return secrets.token_urlsafe(24)


def credential(headers: Headers) -> str:
    """What the caller authenticated with: the session cookie, else the Authorization header."""
    return session_token(headers) or headers.get("authorization", "")


class CsrfTokens:
    """Signs and checks the console's CSRF tokens (stateless, under a server secret)."""

    def __init__(self, secret: bytes) -> None:
        # A key of its own: the pseudonym key is never used directly for anything else.
        self._key = hmac.digest(secret, _KEY_LABEL, "sha256")

    def for_form(self, principal: Principal, headers: Headers) -> str:
        """The token of every form shown to ``principal`` signed in with these headers."""
        digest = hashlib.sha256(credential(headers).encode()).hexdigest()
        return self._sign("form", principal.user_id, digest)

    def for_login(self, nonce: str) -> str:
        """The token of a sign-in form bound to the nonce in :data:`LOGIN_COOKIE`."""
        return self._sign("login", nonce)

    @staticmethod
    def check(expected: str, given: str | None) -> None:
        """Raise :class:`PermissionDenied` unless ``given`` is ``expected`` (constant time)."""
        if not given or not hmac.compare_digest(expected.encode(), given.encode()):
            raise PermissionDenied(
                "this form has expired or did not come from the console: reload the page "
                "and send it again"
            )

    def _sign(self, *parts: str) -> str:
        message = "\x00".join(parts).encode()
        return hmac.new(self._key, message, "sha256").hexdigest()
