"""The reviewer console: server-rendered HTML pages over the services the JSON API serves.

Mounted by both adapters at ``WALKER_CONSOLE_PATH`` (``/console``) below their prefix: the
review queue (``/review``), one draft with its conversation and the decision forms, and a
dashboard of the admin statistics as inline SVG charts (``/dashboard``). Plain HTML forms,
no script, nothing from another origin. Who a caller is comes from the host's principal hook;
a browser signs in at ``/login``, which keeps the token in :data:`SESSION_COOKIE` for that
hook to read (:func:`session_token`). Every form carries a CSRF token.
"""

from __future__ import annotations

from walker_channels.web.console.console import ConsoleModule, assemble, console_pages
from walker_channels.web.console.sessions import CSRF_FIELD, SESSION_COOKIE, session_token
from walker_channels.web.console.site import Audience, NavLink, PageRequest, Site

__all__ = [
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "Audience",
    "ConsoleModule",
    "NavLink",
    "PageRequest",
    "Site",
    "assemble",
    "console_pages",
    "session_token",
]
