"""Meta's webhook checks: the signed POST body and the subscription GET, both fail closed."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import SecretStr

from walker_channels.exceptions import InvalidInput, InvalidSignature
from walker_channels.meta import subscription_challenge, verify_signature
from walker_channels.signatures import compute_hub_signature
from walker_channels.testing import meta_webhook_headers

SECRET = SecretStr("meta-app-secret")
BODY = b'{"object": "whatsapp_business_account", "entry": []}'


def test_the_signature_is_sha256_hex_hmac_of_the_raw_body() -> None:
    expected = hmac.new(b"meta-app-secret", BODY, hashlib.sha256).hexdigest()

    assert compute_hub_signature("meta-app-secret", BODY) == f"sha256={expected}"
    assert meta_webhook_headers("meta-app-secret", BODY)["X-Hub-Signature-256"] == (
        f"sha256={expected}"
    )


def test_a_right_signature_passes_in_either_case() -> None:
    signature = compute_hub_signature("meta-app-secret", BODY)

    verify_signature(SECRET, BODY, signature)
    verify_signature(SECRET, BODY, signature.upper().replace("SHA256=", "sha256="))


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        (SECRET, BODY, None),
        (SECRET, BODY, ""),
        (SECRET, BODY, "sha1=" + "0" * 40),
        (SECRET, BODY, "sha256=" + "0" * 63),
        (SECRET, BODY, "sha256=" + "z" * 64),
        (SECRET, BODY, compute_hub_signature("another-secret", BODY)),
        (SECRET, BODY + b" ", compute_hub_signature("meta-app-secret", BODY)),
        (SecretStr(""), BODY, compute_hub_signature("", BODY)),
    ],
)
def test_a_missing_malformed_or_wrong_signature_is_refused(
    secret: SecretStr, body: bytes, header: str | None
) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature(secret, body, header)


def check(**query: str) -> dict[str, str]:
    return {f"hub.{name}": value for name, value in query.items()}


def test_the_subscription_check_echoes_the_challenge_for_the_right_token() -> None:
    query = check(mode="subscribe", verify_token="verify-me", challenge="1158201444")

    assert subscription_challenge(query, SecretStr("verify-me")) == "1158201444"


@pytest.mark.parametrize(
    ("query", "token"),
    [
        (check(mode="subscribe", verify_token="wrong", challenge="1"), SecretStr("verify-me")),
        (check(mode="subscribe", challenge="1"), SecretStr("verify-me")),
        (
            check(mode="unsubscribe", verify_token="verify-me", challenge="1"),
            SecretStr("verify-me"),
        ),
        (check(verify_token="verify-me", challenge="1"), SecretStr("verify-me")),
        (check(mode="subscribe", verify_token="", challenge="1"), None),
        (check(mode="subscribe", verify_token="", challenge="1"), SecretStr("")),
    ],
)
def test_a_wrong_or_missing_token_or_mode_is_refused(
    query: dict[str, str], token: SecretStr | None
) -> None:
    with pytest.raises(InvalidSignature):
        subscription_challenge(query, token)


@pytest.mark.parametrize("challenge", ["", "x" * 257, "line\nbreak"])
def test_an_unusable_challenge_is_bad_input(challenge: str) -> None:
    query = check(mode="subscribe", verify_token="verify-me", challenge=challenge)

    with pytest.raises(InvalidInput):
        subscription_challenge(query, SecretStr("verify-me"))
