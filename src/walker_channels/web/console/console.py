"""The console as a whole: its modules, their navigation, and the style sheet.

A module is an object with a ``nav`` link (or ``None``) and ``pages(site)`` returning its
endpoints (:class:`ConsoleModule`); :func:`console_pages` assembles the built-in ones. A new
part of the console (the conversations pages, say) is one more module in that list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from walker_channels.app.runtime import Services
from walker_channels.web.console.auth_pages import SignInPages
from walker_channels.web.console.conversation_pages import ConversationPages
from walker_channels.web.console.dashboard_pages import DashboardPages
from walker_channels.web.console.review_pages import ReviewPages
from walker_channels.web.console.sessions import CsrfTokens
from walker_channels.web.console.site import Audience, NavLink, PageRequest, Site
from walker_channels.web.console.templates import STATIC, Templates
from walker_channels.web.endpoints import Endpoint
from walker_channels.web.requests import NeutralResponse

STYLE_SHEET = "console.css"


class ConsoleModule(Protocol):
    """One part of the console: its entry in the navigation and its pages."""

    @property
    def nav(self) -> NavLink | None:
        """Where the navigation links to it (``None``: not linked)."""
        ...

    def pages(self, site: Site) -> list[Endpoint]:
        """Its endpoints, built with :meth:`Site.page`."""
        ...


def console_pages(services: Services, *, prefix: str = "") -> list[Endpoint]:
    """Every console page for ``services``, at ``services.web.console_path`` below ``prefix``."""
    modules: list[ConsoleModule] = [
        ReviewPages(services.review, services.stores.monitoring),
        ConversationPages(services.handoff),
        DashboardPages(services.stores.monitoring, services.clock),
        SignInPages(),
    ]
    path = services.web.console_path
    site = Site(
        path=path,
        mount=prefix.rstrip("/") + path,
        templates=Templates(),
        csrf=CsrfTokens(services.config.pseudonym_key.get_secret_value().encode()),
        clock=services.clock,
        nav=tuple(module.nav for module in modules if module.nav is not None),
        secure_cookies=(services.web.public_url or "").startswith("https://"),
    )
    return assemble(site, modules)


def assemble(site: Site, modules: Sequence[ConsoleModule]) -> list[Endpoint]:
    """The endpoints of ``modules`` on ``site``, and the style sheet."""
    css = (STATIC / STYLE_SHEET).read_bytes()

    async def style_sheet(page: PageRequest) -> NeutralResponse:
        headers = {"content-type": "text/css; charset=utf-8", "cache-control": "max-age=3600"}
        return NeutralResponse(status=200, body=css, headers=headers)

    sheet = site.page(
        "style_sheet", "GET", f"/static/{STYLE_SHEET}", style_sheet, audience=Audience.PUBLIC
    )
    return [sheet, *(endpoint for module in modules for endpoint in module.pages(site))]
