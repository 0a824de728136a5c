"""Meta's two webhook checks, without I/O: the signed POST and the subscription GET.

Both fail closed: a missing, malformed or wrong signature, and a missing or wrong verify
token, raise :class:`~walker_channels.exceptions.InvalidSignature` (HTTP 403), and every
comparison takes constant time.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from pydantic import SecretStr

from walker_channels.exceptions import InvalidInput, InvalidSignature
from walker_channels.signatures import compute_hub_signature

_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
MAX_CHALLENGE_CHARS = 256
"""Meta's challenge is a short number; anything longer is not echoed."""


def verify_signature(app_secret: SecretStr, body: bytes, header: str | None) -> None:
    """Raise :class:`InvalidSignature` unless ``header`` signs the raw ``body``.

    ``header`` is ``X-Hub-Signature-256``: ``sha256=`` and the lower-case hex HMAC-SHA256 of
    the body, keyed by the app secret.
    """
    secret = app_secret.get_secret_value()
    if not secret:
        raise InvalidSignature("no Meta app secret is configured (META_APP_SECRET)")
    if header is None:
        raise InvalidSignature("X-Hub-Signature-256 is missing")
    claimed = header.strip().lower()
    if not _SIGNATURE.fullmatch(claimed):
        raise InvalidSignature("X-Hub-Signature-256 is not sha256= and 64 hex digits")
    expected = compute_hub_signature(secret, body)
    if not hmac.compare_digest(expected.encode(), claimed.encode()):
        raise InvalidSignature("X-Hub-Signature-256 does not match the body")


def subscription_challenge(query: Mapping[str, str], verify_token: SecretStr | None) -> str:
    """The ``hub.challenge`` to echo when ``query`` is Meta's subscription check.

    Raises :class:`InvalidSignature` unless ``hub.mode`` is ``subscribe`` and
    ``hub.verify_token`` equals the configured token, and :class:`InvalidInput` for an
    unusable challenge.
    """
    expected = verify_token.get_secret_value() if verify_token is not None else ""
    if not expected:
        raise InvalidSignature("no verify token is configured (META_VERIFY_TOKEN)")
    if query.get("hub.mode") != "subscribe":
        raise InvalidSignature("hub.mode is not subscribe")
    given = query.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidSignature("hub.verify_token does not match")
    challenge = query.get("hub.challenge", "")
    if not challenge or len(challenge) > MAX_CHALLENGE_CHARS or not challenge.isprintable():
        raise InvalidInput("hub.challenge is missing or not a short printable string")
    return challenge
