"""Without WALKER_PUBLIC_URL, webhooks verify only for the hosts in WALKER_ALLOWED_HOSTS.

The URL Twilio signed is then rebuilt from the request's Host, which the caller chooses: a
webhook signed for another deployment sharing the auth token (staging) must not verify here
when replayed with that deployment's host.
"""

from __future__ import annotations

import logging

import pytest
from web_harness import BASE_URL, STATUS, WEBHOOK, MakeApp, inbound_form, new_sid

STAGING = "https://staging.example.com"


def test_a_webhook_signed_for_another_host_is_refused_when_replayed_with_that_host(
    make_app: MakeApp,
) -> None:
    app = make_app()  # WALKER_ALLOWED_HOSTS=walker.example.com, no WALKER_PUBLIC_URL
    staging = {"Host": "staging.example.com"}

    replayed = app.inbound("hello", url=STAGING + WEBHOOK, headers=staging)

    assert replayed.status_code == 403
    assert replayed.json()["detail"] == "the request signature could not be verified"
    assert app.whatsapp.sent == []
    assert app.inbound("hello", url=BASE_URL + WEBHOOK).status_code == 200


def test_status_callbacks_are_held_to_the_same_hosts(make_app: MakeApp) -> None:
    app = make_app()
    form = {"MessageSid": new_sid(), "MessageStatus": "delivered"}

    replayed = app.signed_post(
        STATUS, form, url=STAGING + STATUS, headers={"Host": "staging.example.com"}
    )

    assert replayed.status_code == 403


def test_allowed_hosts_are_a_comma_separated_list_with_optional_ports(make_app: MakeApp) -> None:
    app = make_app(walker_allowed_hosts=" other.example.org , staging.example.com:8443 ")

    assert app.inbound("hello", url=BASE_URL + WEBHOOK).status_code == 403
    with_port = {"Host": "staging.example.com:8443"}
    url = "https://staging.example.com:8443" + WEBHOOK
    assert app.inbound("hello", url=url, headers=with_port).status_code == 200


def test_a_forwarded_host_must_be_allowed_too(make_app: MakeApp) -> None:
    app = make_app(walker_trust_forwarded_headers=True)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "staging.example.com"}

    assert app.inbound("hello", url=STAGING + WEBHOOK, headers=forwarded).status_code == 403


def test_with_neither_setting_every_webhook_is_refused_and_the_start_up_log_says_why(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="walker_channels.web.webhooks"):
        app = make_app(walker_allowed_hosts=None)
    start_up = caplog.text
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="walker_channels.web.webhooks"):
        refused = app.inbound("hello")

    assert "every Twilio webhook will be refused" in start_up
    assert "WALKER_ALLOWED_HOSTS" in start_up
    assert "WALKER_DEV_MODE" in start_up
    assert refused.status_code == 403
    assert "detail" in refused.json()
    assert "neither WALKER_PUBLIC_URL nor WALKER_ALLOWED_HOSTS is set" in caplog.text


def test_the_development_flag_verifies_for_any_host_and_says_so_at_start_up(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="walker_channels.web.webhooks"):
        app = make_app(walker_allowed_hosts=None, walker_dev_mode=True)

    accepted = app.inbound("hello", url=STAGING + WEBHOOK, headers={"Host": "staging.example.com"})

    assert "WALKER_DEV_MODE is set" in caplog.text
    assert accepted.status_code == 200


def test_a_configured_public_url_needs_no_allowed_hosts(make_app: MakeApp) -> None:
    app = make_app(walker_allowed_hosts=None, walker_public_url=BASE_URL)

    assert app.inbound("hello").status_code == 200
    staging = app.inbound("hello", url=STAGING + WEBHOOK, headers={"Host": "staging.example.com"})
    assert staging.status_code == 403


def test_the_development_flag_does_not_accept_an_unsigned_webhook(make_app: MakeApp) -> None:
    app = make_app(walker_allowed_hosts=None, walker_dev_mode=True)

    assert app.unsigned_post(WEBHOOK, inbound_form("hello", sid=new_sid())).status_code == 403
