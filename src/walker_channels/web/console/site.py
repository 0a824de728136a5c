"""What every console page shares: its place, its templates, sign-in, CSRF and error pages.

A page handler gets a :class:`PageRequest` once the caller is known (or the page is public)
and, for a form, once its CSRF token is checked; whatever it raises becomes an HTML error
page with the status the JSON API would answer (:func:`~walker_channels.web.errors.status_for`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import ValidationError

from walker_channels.exceptions import PermissionDenied, WalkerError
from walker_channels.models import Principal
from walker_channels.ports import Clock
from walker_channels.storable import require_storable
from walker_channels.web.auth import Access, require_superuser
from walker_channels.web.console.sessions import CSRF_FIELD, CsrfTokens
from walker_channels.web.console.templates import Templates
from walker_channels.web.endpoints import Endpoint, Handler
from walker_channels.web.errors import INTERNAL_DETAIL, status_for
from walker_channels.web.requests import MultiDict, NeutralRequest, NeutralResponse

logger = logging.getLogger("walker_channels.web.console")

PAGE_HEADERS: Mapping[str, str] = {
    # No script, no frame, no third party: every asset comes from the console itself.
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class Audience(StrEnum):
    """Who may see a page."""

    PUBLIC = "public"
    """Anyone (the sign-in page, the style sheet)."""
    SIGNED_IN = "signed_in"
    """Any caller the host's principal hook recognises."""
    SUPERUSER = "superuser"
    """Superusers, as for the admin API."""


@dataclass(frozen=True)
class NavLink:
    """An entry in the console's navigation."""

    label: str
    path: str
    """Below the console's own path, e.g. ``/review``."""


@dataclass(frozen=True)
class PageRequest:
    """A request to a page, with its checked caller and (for a POST) its form."""

    site: Site
    request: NeutralRequest
    principal: Principal | None
    csrf: str
    """The token the page's forms carry ("" for a caller not signed in)."""
    form: MultiDict = field(default_factory=MultiDict)

    @property
    def user(self) -> Principal:
        """The caller (pages for signed-in callers only)."""
        if self.principal is None:
            raise PermissionDenied("sign in to see this page")
        return self.principal


PageHandler = Callable[[PageRequest], Awaitable[NeutralResponse]]


@dataclass(frozen=True)
class Site:
    """The console as its pages see it: where it is mounted and how pages are answered."""

    path: str
    """The console's path below the adapter's prefix (the routes' paths start with it)."""
    mount: str
    """The console's path as the browser sees it (the adapter's prefix included)."""
    templates: Templates
    csrf: CsrfTokens
    clock: Clock
    nav: tuple[NavLink, ...] = ()
    secure_cookies: bool = False
    """Mark cookies Secure even on a plain-HTTP request (the public URL is HTTPS)."""

    def url(self, path: str = "/") -> str:
        """The browser's URL of ``path`` below the console."""
        return self.mount + path

    def is_secure(self, request: NeutralRequest) -> bool:
        """Whether cookies set in answer to ``request`` must be Secure."""
        return self.secure_cookies or request.url.startswith("https://")

    def render(
        self,
        page: PageRequest,
        template: str,
        *,
        status: int = 200,
        cookies: tuple[str, ...] = (),
        **context: Any,
    ) -> NeutralResponse:
        """An HTML page from ``template``, with the console's headers."""
        html = self.templates.render(
            template,
            site=self,
            principal=page.principal,
            csrf=page.csrf,
            csrf_field=CSRF_FIELD,
            **context,
        )
        return NeutralResponse.html(html, status=status, headers=PAGE_HEADERS, cookies=cookies)

    def redirect(self, path: str, *, cookies: tuple[str, ...] = ()) -> NeutralResponse:
        """A 303 to ``path`` below the console."""
        return NeutralResponse.redirect(self.url(path), headers=PAGE_HEADERS, cookies=cookies)

    def local_path(self, target: str | None) -> str | None:
        """``target`` if it is a path of this console (a safe ``next`` after sign-in)."""
        if not target:
            return None
        parts = urlsplit(target)
        inside = target == self.mount or target.startswith(self.mount + "/")
        if parts.scheme or parts.netloc or "\\" in target or "//" in target or not inside:
            return None
        return target.removeprefix(self.mount) or "/"

    def page(
        self,
        name: str,
        method: str,
        path: str,
        handler: PageHandler,
        *,
        audience: Audience = Audience.SUPERUSER,
        summary: str = "",
    ) -> Endpoint:
        """The endpoint serving ``handler`` at ``path`` below the console."""
        return Endpoint(
            name=f"console_{name}",
            method=method,
            path=self.path + path,
            access=Access.BROWSER,
            handler=self._guarded(handler, audience),
            summary=summary or name,
            tag="console",
        )

    def _guarded(self, handler: PageHandler, audience: Audience) -> Handler:
        async def answer(request: NeutralRequest, principal: Principal | None) -> NeutralResponse:
            page = PageRequest(self, request, principal, self._token(principal, request))
            try:
                if principal is None and audience is not Audience.PUBLIC:
                    return self._sign_in_first(page)
                if audience is Audience.SUPERUSER:
                    require_superuser(principal)
                if request.method == "POST":
                    page = self._with_form(page, check=audience is not Audience.PUBLIC)
                return await handler(page)
            except Exception as exc:  # every error becomes a page; 500s are logged
                return self.error_page(page, exc)

        return answer

    def _token(self, principal: Principal | None, request: NeutralRequest) -> str:
        return "" if principal is None else self.csrf.for_form(principal, request.headers)

    def _with_form(self, page: PageRequest, *, check: bool) -> PageRequest:
        form = page.request.form() if page.request.body else MultiDict()  # empty: no token
        require_storable(value for pair in form.pairs for value in pair)
        if check:
            self.csrf.check(page.csrf, form.get(CSRF_FIELD))
        return PageRequest(self, page.request, page.principal, page.csrf, form)

    def _sign_in_first(self, page: PageRequest) -> NeutralResponse:
        if page.request.method != "GET":
            return self.render(page, "error.html", status=401, message="Sign in first.")
        target = urlsplit(page.request.url)
        back = target.path + (f"?{target.query}" if target.query else "")
        return self.redirect(f"/login?next={quote(back, safe='/')}")

    def error_page(self, page: PageRequest, error: BaseException) -> NeutralResponse:
        """The HTML answer to ``error`` (the JSON API's status; 500s logged, never explained)."""
        status = status_for(error)
        if status == 500:
            logger.error("unhandled error in a console page", exc_info=error)
            message = INTERNAL_DETAIL
        elif isinstance(error, ValidationError):
            message = "the form or the address is not valid"
        else:
            message = str(error) if isinstance(error, WalkerError) else type(error).__name__
        return self.render(page, "error.html", status=status, message=message)
