"""Twilio webhook authentication: the public URL, the signature, and failing closed.

A rejected request is logged with the reason (which URL was checked and where it came from,
which algorithm), never with the token, the signature or the body.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import NoReturn

from walker_channels.app.config import WebConfig
from walker_channels.exceptions import InvalidSignature
from walker_channels.signatures import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    SignatureAlgorithm,
    signature_algorithm,
    verify_twilio_signature,
)
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
    ``allow_unsigned_webhooks`` (development only) is set.
    """

    def __init__(self, config: WebConfig) -> None:
        self._config = config

    def form(self, request: NeutralRequest) -> MultiDict:
        """The verified form of a Twilio webhook (parsed from the raw body, then checked)."""
        if self._unconfigured():
            if not self._config.allow_unsigned_webhooks:
                self._reject("no Twilio auth token or signing key is configured", request.url)
            return request.form()
        if not request.headers.get(SIGNATURE_HEADER):
            # Refused before the body is parsed: an unsigned caller learns nothing about it.
            self._reject(f"missing {SIGNATURE_HEADER} header", request.url)
        form = request.form()
        self.verify(request, form)
        return form

    def verify(self, request: NeutralRequest, form: MultiDict) -> None:
        """Check ``request``'s signature over its public URL and every field of ``form``."""
        url, source = self.public_url(request)
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
