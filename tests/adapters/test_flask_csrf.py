"""A Flask host with Flask-WTF's CSRF protection: the Twilio webhooks, which carry a signature
and no CSRF token, are exempted by name; every other walker-channels POST stays protected."""

from __future__ import annotations

from pathlib import Path

import flask
import httpx
from flask_wtf.csrf import CSRFProtect
from test_flask_extension import post_inbound
from web_harness import ADMIN, BASE_URL, build_test_services, flask_principal

from walker_channels_flask import WalkerChannels
from walker_channels_flask.testing import SettledTransport


def test_only_the_exempted_webhooks_skip_the_csrf_check(tmp_path: Path) -> None:
    services, whatsapp, _ = build_test_services(tmp_path / "walker.db")
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = "csrf-secret-for-tests"
    csrf = CSRFProtect(app)
    WalkerChannels(services, principal=flask_principal).init_app(app)
    for view in WalkerChannels.webhook_views(app):
        csrf.exempt(view)
    try:
        with httpx.Client(transport=SettledTransport(app), base_url=BASE_URL) as client:
            webhook = post_inbound(client)
            admin = client.post(
                f"{ADMIN}/hitl/x/approve", json={}, headers={"Authorization": "Bearer root"}
            )
    finally:
        WalkerChannels.shutdown(app)

    assert webhook.status_code == 200
    assert len(whatsapp.sent) == 1
    assert admin.status_code == 400
    assert "CSRF" in admin.text
