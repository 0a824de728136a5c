"""Twilio webhook authentication: the public URL, the signature, and failing closed.

Without ``WALKER_PUBLIC_URL`` the URL is rebuilt from the request's ``Host`` (or the trusted
``X-Forwarded-Host``), which the caller chooses: a webhook signed for another deployment that
shares the auth token (staging, say) would verify when replayed with that host. So the host
must then be one of ``WALKER_ALLOWED_HOSTS``; with neither setting every webhook is refused,
unless the development flag ``WALKER_DEV_MODE`` says any host will do.

A rejected request is logged with the reason (which URL was checked and where it came from,
which algorithm), never with the token, the signature or the body.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import NoReturn
from urllib.parse import urlsplit

from walker_channels.app.config import WebConfig
from walker_channels.exceptions import InvalidSignature
from walker_channels.signatures import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    SignatureAlgorithm,
    signature_algorithm,
    verify_twilio_signature,
)
from walker_channels.storable import storable
from walker_channels.urls import public_request_url
from walker_channels.web.requests import MultiDict, NeutralRequest

logger = logging.getLogger("walker_channels.web.webhooks")


class UrlSource(StrEnum):
    """Where the URL a signature was checked against came from."""

    CONFIGURED = "WALKER_PUBLIC_URL"
    FORWARDED = "X-Forwarded headers"
    REQUEST = "the request as received"


class WebhookAuthenticator:
    """Checks that a webhook came from Twilio; raises :class:`InvalidSignature` otherwise.

    With neither an auth token nor a signing key configured every webhook is refused, unless
    ``allow_unsigned_webhooks`` (development only) is set. Without a public URL, only hosts in
    ``allowed_hosts`` are verified (any host with ``dev_mode``); see the module's docstring.
    """

    def __init__(self, config: WebConfig) -> None:
        self._config = config
        self._allowed = frozenset(host.lower() for host in config.allowed_hosts)
        _log_host_policy(config)

    def form(self, request: NeutralRequest) -> MultiDict:
        """The verified form of a Twilio webhook, with text no store can hold replaced.

        The signature is checked over the fields as sent; then each NUL or lone surrogate in
        them becomes U+FFFD, so the message is kept (refusing it would make Twilio redeliver
        it for ever).
        """
        if self._unconfigured():
            if not self._config.allow_unsigned_webhooks:
                self._reject("no Twilio auth token or signing key is configured", request.url)
            return _storable(request.form())
        if not request.headers.get(SIGNATURE_HEADER):
            # Refused before the body is parsed: an unsigned caller learns nothing about it.
            self._reject(f"missing {SIGNATURE_HEADER} header", request.url)
        form = request.form()
        self.verify(request, form)
        return _storable(form)

    def verify(self, request: NeutralRequest, form: MultiDict) -> None:
        """Check ``request``'s signature over its public URL and every field of ``form``."""
        url, source = self.public_url(request)
        if source is not UrlSource.CONFIGURED:
            self._check_host(url, source)
        try:
            algorithm = signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        except InvalidSignature as exc:
            self._reject(str(exc), url, source)
        key = self._key(algorithm)
        if key is None:
            self._reject(f"no key is configured for {algorithm.value}", url, source, algorithm)
        signature = request.headers.get(SIGNATURE_HEADER)
        try:
            verify_twilio_signature(key, url, form.params(), signature, algorithm=algorithm)
        except InvalidSignature as exc:
            reason = f"{exc} (tried the URL with and without its default port)"
            self._reject(reason, url, source, algorithm)

    def public_url(self, request: NeutralRequest) -> tuple[str, UrlSource]:
        """The URL Twilio called (which it signed), and where it was learned from."""
        config = self._config
        url = public_request_url(
            request.url,
            request.headers,
            public_base_url=config.public_url,
            trust_forwarded_headers=config.trust_forwarded_headers,
        )
        if config.public_url:
            return url, UrlSource.CONFIGURED
        if config.trust_forwarded_headers:
            return url, UrlSource.FORWARDED
        return url, UrlSource.REQUEST

    def _check_host(self, url: str, source: UrlSource) -> None:
        if self._config.dev_mode:
            return
        if not self._allowed:
            self._reject(f"{NO_HOST_POLICY}; set WALKER_PUBLIC_URL", url, source)
        try:
            parts = urlsplit(url)
            host, netloc = parts.hostname or "", parts.netloc.rpartition("@")[2].lower()
        except ValueError:
            host, netloc = "", ""
        if host not in self._allowed and netloc not in self._allowed:
            self._reject("the request's host is not in WALKER_ALLOWED_HOSTS", url, source)

    def _unconfigured(self) -> bool:
        return not (self._config.twilio_auth_token or self._config.twilio_webhook_signing_key)

    def _key(self, algorithm: SignatureAlgorithm) -> str | None:
        if algorithm is SignatureAlgorithm.HMAC_SHA256:
            secret = self._config.twilio_webhook_signing_key
        else:
            secret = self._config.twilio_auth_token
        return secret.get_secret_value() if secret is not None else None

    @staticmethod
    def _reject(
        reason: str,
        url: str,
        source: UrlSource = UrlSource.REQUEST,
        algorithm: SignatureAlgorithm | None = None,
    ) -> NoReturn:
        logger.warning(
            "rejected Twilio webhook: %s; url checked: %s (from %s); algorithm: %s",
            reason,
            url,
            source.value,
            algorithm.value if algorithm else "not reached",
        )
        raise InvalidSignature(reason)


NO_HOST_POLICY = "neither WALKER_PUBLIC_URL nor WALKER_ALLOWED_HOSTS is set"


def _storable(form: MultiDict) -> MultiDict:
    return MultiDict((storable(name), storable(value)) for name, value in form.pairs)


def _log_host_policy(config: WebConfig) -> None:
    """Say at start-up how webhook URLs are learned, when it is not the configured URL."""
    if config.public_url or not (config.twilio_auth_token or config.twilio_webhook_signing_key):
        return
    if config.dev_mode:
        logger.warning(
            "WALKER_DEV_MODE is set and WALKER_PUBLIC_URL is not: webhook signatures are "
            "checked against whatever Host a request names (development only)"
        )
    elif not config.allowed_hosts:
        logger.warning(
            "every Twilio webhook will be refused: %s (the URL Twilio signed cannot be trusted "
            "from the request's Host); set WALKER_PUBLIC_URL, or WALKER_DEV_MODE in development",
            NO_HOST_POLICY,
        )
