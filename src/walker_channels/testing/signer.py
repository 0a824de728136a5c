"""Sign requests the way Twilio (and Meta) do, for tests and the ``simulate`` command."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from walker_channels.signatures import (
    HUB_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    SignatureAlgorithm,
    TwilioParams,
    compute_hub_signature,
    compute_twilio_signature,
)


class TwilioSigner:
    """Produces ``X-Twilio-Signature`` headers (and form bodies) for a given token."""

    def __init__(
        self,
        auth_token: str,
        *,
        algorithm: SignatureAlgorithm = SignatureAlgorithm.HMAC_SHA1,
        shared_key_id: str = "webhooks_sharedkey_test",
    ) -> None:
        self.auth_token = auth_token
        self.algorithm = algorithm
        self.shared_key_id = shared_key_id

    def signature(self, url: str, params: TwilioParams | str | None = None) -> str:
        """The signature for ``url`` and ``params``."""
        return compute_twilio_signature(self.auth_token, url, params, algorithm=self.algorithm)

    def headers(self, url: str, params: TwilioParams | str | None = None) -> dict[str, str]:
        """Headers Twilio would send: the signature, and the settings header for SHA-256."""
        headers = {SIGNATURE_HEADER: self.signature(url, params)}
        if self.algorithm is SignatureAlgorithm.HMAC_SHA256:
            headers[SIGNATURE_SETTINGS_HEADER] = (
                f"key={self.shared_key_id},algorithm={self.algorithm.value}"
            )
        return headers

    def form_request(self, url: str, params: TwilioParams) -> tuple[dict[str, str], bytes]:
        """Headers and an url-encoded body for a signed form POST."""
        headers = self.headers(url, params)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return headers, urlencode(list(_pairs(params))).encode()


def meta_webhook_headers(app_secret: str, body: bytes) -> dict[str, str]:
    """The headers Meta sends with a webhook POST of ``body``: its ``X-Hub-Signature-256``
    (keyed by the app secret) and the JSON content type."""
    return {
        HUB_SIGNATURE_HEADER: compute_hub_signature(app_secret, body),
        "Content-Type": "application/json",
    }


def with_body_hash(url: str, body: str) -> str:
    """``url`` with ``bodySHA256`` for a JSON body appended, as Twilio does."""
    digest = hashlib.sha256(body.encode()).hexdigest()
    return f"{url}{'&' if '?' in url else '?'}bodySHA256={digest}"


def _pairs(params: TwilioParams) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        values = (value,) if isinstance(value, str) else value
        pairs.extend((name, item) for item in values)
    return pairs
