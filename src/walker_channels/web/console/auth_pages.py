"""Signing in and out of the console: a form that keeps the typed token in a session cookie.

Whether the token is any good is the host's principal hook's decision, made on the next
page: a token it refuses brings the reviewer back here, told so, with the cookie removed.
"""

from __future__ import annotations

from walker_channels.exceptions import InvalidInput, PermissionDenied
from walker_channels.web.console.sessions import (
    LOGIN_COOKIE,
    LOGIN_COOKIE_SECONDS,
    SESSION_COOKIE,
    checked_token,
    cookie,
    expired_cookie,
    new_nonce,
    request_cookies,
)
from walker_channels.web.console.site import Audience, NavLink, PageRequest, Site
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralResponse

HOME = "/review"
"""Where a reviewer lands after signing in."""


class SignInPages:
    """``/login`` (the form and its POST) and ``/logout``."""

    nav: NavLink | None = None

    def pages(self, site: Site) -> list[Endpoint]:
        """The pages of this module."""
        public = Audience.PUBLIC
        return [
            site.page("login_form", "GET", "/login", self.form, audience=public),
            site.page("login", "POST", "/login", self.sign_in, audience=public),
            site.page("logout", "POST", "/logout", self.sign_out, audience=Audience.SIGNED_IN),
            site.page("home", "GET", "", self.home, audience=Audience.SIGNED_IN),
            site.page("home_slash", "GET", "/", self.home, audience=Audience.SIGNED_IN),
        ]

    async def home(self, page: PageRequest) -> NeutralResponse:
        """The console's own URL: on to the review queue."""
        return page.site.redirect(HOME)

    async def form(self, page: PageRequest) -> NeutralResponse:
        """The sign-in form (or on to ``next`` for a caller signed in already)."""
        after = page.site.local_path(page.request.query.get("next")) or HOME
        if page.principal is not None:
            return page.site.redirect(after)
        refused = SESSION_COOKIE in request_cookies(page.request.headers)
        message = "That token was not accepted. Check it and sign in again." if refused else None
        return self._form(page, after, message=message, forget_session=refused)

    async def sign_in(self, page: PageRequest) -> NeutralResponse:
        """Check the form's token, keep the typed token in the session cookie, go on."""
        site = page.site
        after = site.local_path(page.form.get("next")) or HOME
        nonce = request_cookies(page.request.headers).get(LOGIN_COOKIE, "")
        try:
            site.csrf.check(site.csrf.for_login(nonce), page.form.get("csrf_token"))
            token = checked_token(page.form.get("token", ""))
        except PermissionDenied:
            message = "The sign-in form had expired. Sign in again."
            return self._form(page, after, message=message, status=403)
        except InvalidInput as exc:
            return self._form(page, after, message=str(exc), status=400)
        secure = site.is_secure(page.request)
        cookies = (
            cookie(SESSION_COOKIE, token, path=site.mount or "/", secure=secure),
            expired_cookie(LOGIN_COOKIE, path=site.url("/login"), secure=secure),
        )
        return site.redirect(after, cookies=cookies)

    async def sign_out(self, page: PageRequest) -> NeutralResponse:
        """Remove the session cookie."""
        site = page.site
        gone = expired_cookie(
            SESSION_COOKIE, path=site.mount or "/", secure=site.is_secure(page.request)
        )
        return site.redirect("/login", cookies=(gone,))

    def _form(
        self,
        page: PageRequest,
        after: str,
        *,
        message: str | None,
        status: int = 200,
        forget_session: bool = False,
    ) -> NeutralResponse:
        site, nonce = page.site, new_nonce()
        secure = site.is_secure(page.request)
        cookies = [
            cookie(LOGIN_COOKIE, nonce, path=site.url("/login"), secure=secure,
                   max_age=LOGIN_COOKIE_SECONDS),
        ]  # fmt: skip
        if forget_session:
            cookies.append(expired_cookie(SESSION_COOKIE, path=site.mount or "/", secure=secure))
        return site.render(
            page,
            "login.html",
            status=status,
            cookies=tuple(cookies),
            login_token=site.csrf.for_login(nonce),
            next=site.url(after),
            message=message,
        )
