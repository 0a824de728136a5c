"""Twilio signature verification agrees with Twilio's documented example and rejects tampering."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from walker_channels import (
    ConfigurationError,
    InvalidSignature,
    SignatureAlgorithm,
    compute_twilio_signature,
    public_request_url,
    signature_algorithm,
    verify_twilio_signature,
)
from walker_channels.testing import TwilioSigner, with_body_hash

TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


def test_twilios_documented_example_verifies() -> None:
    assert compute_twilio_signature(TOKEN, DOC_URL, DOC_PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    verify_twilio_signature(TOKEN, DOC_URL, DOC_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_the_signature_equals_the_official_packages() -> None:
    oracle = RequestValidator(TOKEN).compute_signature(DOC_URL, DOC_PARAMS)
    assert compute_twilio_signature(TOKEN, DOC_URL, DOC_PARAMS) == oracle


@pytest.mark.parametrize(
    ("url", "params", "token"),
    [
        ("https://mycompany.com/myapp.php?foo=1&bar=3", DOC_PARAMS, TOKEN),
        (DOC_URL, {**DOC_PARAMS, "Digits": "1235"}, TOKEN),
        (DOC_URL, {**DOC_PARAMS, "Extra": ""}, TOKEN),
        (DOC_URL, DOC_PARAMS, "12346"),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", DOC_PARAMS, TOKEN),
    ],
    ids=["url", "field", "added-empty-field", "token", "scheme"],
)
def test_tampering_raises(url: str, params: dict[str, str], token: str) -> None:
    signature = compute_twilio_signature(TOKEN, DOC_URL, DOC_PARAMS)
    with pytest.raises(InvalidSignature):
        verify_twilio_signature(token, url, params, signature)


def test_the_default_port_is_accepted_either_way() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    signed_without = compute_twilio_signature(TOKEN, DOC_URL, DOC_PARAMS)
    signed_with = compute_twilio_signature(TOKEN, with_port, DOC_PARAMS)
    verify_twilio_signature(TOKEN, with_port, DOC_PARAMS, signed_without)
    verify_twilio_signature(TOKEN, DOC_URL, DOC_PARAMS, signed_with)


def test_a_non_default_port_must_be_known() -> None:
    signed = compute_twilio_signature(TOKEN, "https://h.example:8080/hook", {"A": "1"})
    verify_twilio_signature(TOKEN, "https://h.example:8080/hook", {"A": "1"}, signed)
    for other in ("https://h.example/hook", "https://h.example:9443/hook"):
        with pytest.raises(InvalidSignature):
            verify_twilio_signature(TOKEN, other, {"A": "1"}, signed)


def test_repeated_values_are_sorted_and_deduplicated_like_twilio() -> None:
    params = {"MediaUrl": ["b", "a", "b"], "To": "+1"}
    expected = compute_twilio_signature(TOKEN, DOC_URL, {"MediaUrl": ["a", "b"], "To": "+1"})
    assert compute_twilio_signature(TOKEN, DOC_URL, params) == expected


def test_multidicts_are_read_with_every_repeated_value() -> None:
    from werkzeug.datastructures import MultiDict

    form = MultiDict([("MediaUrl", "b"), ("MediaUrl", "a"), ("To", "+1")])
    expected = compute_twilio_signature(TOKEN, DOC_URL, {"MediaUrl": ["a", "b"], "To": "+1"})
    assert compute_twilio_signature(TOKEN, DOC_URL, form) == expected
    assert RequestValidator(TOKEN).compute_signature(DOC_URL, form) == expected
    verify_twilio_signature(TOKEN, DOC_URL, form, expected)


def test_json_bodies_are_checked_by_their_hash() -> None:
    body = '{"property": "value", "boolean": true}'
    url = with_body_hash(DOC_URL, body)
    signature = compute_twilio_signature(TOKEN, url, body)
    assert signature == RequestValidator(TOKEN).compute_signature(url, {})
    verify_twilio_signature(TOKEN, url, body, signature)
    with pytest.raises(InvalidSignature, match="bodySHA256 does not match"):
        verify_twilio_signature(TOKEN, url, body.replace("true", "false"), signature)
    with pytest.raises(InvalidSignature, match="needs bodySHA256"):
        verify_twilio_signature(
            TOKEN, DOC_URL, body, compute_twilio_signature(TOKEN, DOC_URL, body)
        )


def test_twilios_json_vector_verifies() -> None:
    body = '{"property": "value", "boolean": true}'
    url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + (
        "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    )
    verify_twilio_signature(TOKEN, url, body, "a9nBmqA0ju/hNViExpshrM61xv4=")


def test_missing_or_non_ascii_signatures_are_invalid_not_errors() -> None:
    for bad in (None, "", "é" * 28):
        with pytest.raises(InvalidSignature):
            verify_twilio_signature(TOKEN, DOC_URL, DOC_PARAMS, bad)


def test_an_invalid_port_is_an_invalid_signature() -> None:
    with pytest.raises(InvalidSignature, match="port"):
        verify_twilio_signature(TOKEN, "https://h.example:99999/x", {}, "abc=")


def test_an_empty_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        verify_twilio_signature("", DOC_URL, DOC_PARAMS, "sig")


def test_shared_key_sha256_is_selected_by_the_settings_header() -> None:
    signer = TwilioSigner("shared-secret", algorithm=SignatureAlgorithm.HMAC_SHA256)
    headers = signer.headers(DOC_URL, DOC_PARAMS)
    algorithm = signature_algorithm(headers["X-Twilio-Webhooks-Signature-Settings"])
    assert algorithm is SignatureAlgorithm.HMAC_SHA256
    oracle = RequestValidator("shared-secret").compute_signature(DOC_URL, DOC_PARAMS, "HMAC_SHA256")
    assert headers["X-Twilio-Signature"] == oracle
    verify_twilio_signature("shared-secret", DOC_URL, DOC_PARAMS, oracle, algorithm=algorithm)
    with pytest.raises(InvalidSignature):  # a SHA-256 signature checked as SHA-1 fails
        verify_twilio_signature("shared-secret", DOC_URL, DOC_PARAMS, oracle)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, SignatureAlgorithm.HMAC_SHA1),
        ("", SignatureAlgorithm.HMAC_SHA1),
        ("key=abc", SignatureAlgorithm.HMAC_SHA1),
        ("key=abc, algorithm=hmac_sha256", SignatureAlgorithm.HMAC_SHA256),
    ],
)
def test_the_settings_header_is_parsed_like_twilio(
    header: str | None, expected: SignatureAlgorithm
) -> None:
    assert signature_algorithm(header) is expected


def test_an_unknown_algorithm_is_rejected() -> None:
    with pytest.raises(InvalidSignature, match="unsupported"):
        signature_algorithm("key=abc,algorithm=HMAC_MD5")


# --- URL spellings: each one an official SDK tries (see tests/unit/test_sdk_vectors.py) ------


def oracle_signature(url: str) -> str:
    """Twilio's signature over exactly ``url`` (computed by the official package)."""
    return str(RequestValidator(TOKEN).compute_signature(url, DOC_PARAMS))


@pytest.mark.parametrize(
    ("received", "signed"),
    [
        ("https://user:pass@mycompany.com:8443/hook", "https://user:pass@mycompany.com/hook"),
        ("https://user@mycompany.com:8443/hook?a=1", "https://user@mycompany.com/hook?a=1"),
        ("https://[::1]:8443/hook", "https://[::1]/hook"),
    ],
)
def test_the_port_after_credentials_or_an_ipv6_host_is_stripped_like_twilio_node(
    received: str, signed: str
) -> None:
    verify_twilio_signature(TOKEN, received, DOC_PARAMS, oracle_signature(signed))


def test_the_official_python_packages_mangled_port_strip_is_not_accepted() -> None:
    # twilio-python cuts "user:pass@host:8443" at the first ":", signing "https://user/hook".
    with pytest.raises(InvalidSignature):
        verify_twilio_signature(
            TOKEN,
            "https://user:pass@mycompany.com:8443/hook",
            DOC_PARAMS,
            oracle_signature("https://user/hook"),
        )


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://mycompany.com/hook?foo=1",
        "HTTP://mycompany.com:8080/hook",
        "https://mycompany.com/hook?",
        "https://MyCompany.com/hook",
    ],
    ids=["upper-case-scheme", "upper-case-scheme-port", "empty-query", "host-case"],
)
def test_the_url_is_tried_exactly_as_received_like_twilio_php_and_csharp(url: str) -> None:
    verify_twilio_signature(TOKEN, url, DOC_PARAMS, oracle_signature(url))


def test_an_upper_case_scheme_is_tried_with_its_default_port_too() -> None:
    signed = "HTTPS://mycompany.com:443/hook"
    verify_twilio_signature(
        TOKEN, "HTTPS://mycompany.com/hook", DOC_PARAMS, oracle_signature(signed)
    )


def test_an_apostrophe_in_the_query_is_tried_escaped_like_twilio_node() -> None:
    received = "https://mycompany.com/hook?Body=It's+amazing"
    for signed in (
        "https://mycompany.com/hook?Body=It%27s+amazing",
        "https://mycompany.com:443/hook?Body=It%27s+amazing",
    ):
        verify_twilio_signature(TOKEN, received, DOC_PARAMS, oracle_signature(signed))


@pytest.mark.parametrize(
    ("received", "signed"),
    [
        ("https://mycompany.com/hook?name=O%27Brien", "https://mycompany.com/hook?name=O'Brien"),
        (
            "https://mycompany.com/hook?Body=It%27s+amazing",
            "https://mycompany.com/hook?Body=It's%20amazing",
        ),
        (
            "https://mycompany.com:8443/hook?b=1&a=%7E&b=2",
            "https://mycompany.com:8443/hook?b=1&b=2&a=~",
        ),
    ],
    ids=["apostrophe", "plus", "repeated-name"],
)
def test_a_query_a_proxy_re_encoded_is_tried_as_twilio_nodes_querystring_spells_it(
    received: str, signed: str
) -> None:
    verify_twilio_signature(TOKEN, received, DOC_PARAMS, oracle_signature(signed))


def test_twilio_nodes_default_port_spelling_drops_an_empty_query() -> None:
    signed = "https://mycompany.com:443/a%3Cb%3E"
    verify_twilio_signature(
        TOKEN, "https://mycompany.com/a<b>?", DOC_PARAMS, oracle_signature(signed)
    )


@pytest.mark.parametrize(
    ("received", "signed"),
    [
        ("https://MyCompany.com/hook", "https://mycompany.com/hook"),
        ("https://mycompany.com/a/../hook?q='", "https://mycompany.com/hook?q=%27"),
        ("https://mycompany.com/hook?q='#top", "https://mycompany.com/hook?q=%27#top"),
        ("https://mycompany.com/hook?a=1&b=2", "https://mycompany.com/hook?b=2&a=1"),
    ],
    ids=["host-case", "dot-segments", "fragment", "query-order"],
)
def test_no_other_normalisation_is_tried(received: str, signed: str) -> None:
    # twilio-csharp asserts that a lower-cased host is refused; the WHATWG parser's other
    # rewrites are not imitated, and no SDK reorders the query's names.
    with pytest.raises(InvalidSignature):
        verify_twilio_signature(TOKEN, received, DOC_PARAMS, oracle_signature(signed))


def test_a_public_base_url_keeps_the_scheme_as_configured_in_twilio() -> None:
    url = public_request_url("http://10.0.0.7:8000/hook?a=1", {}, public_base_url="HTTPS://Ex.com")
    assert url == "HTTPS://Ex.com/hook?a=1"
    verify_twilio_signature(TOKEN, url, DOC_PARAMS, oracle_signature(url))
