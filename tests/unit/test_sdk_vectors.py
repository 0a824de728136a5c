"""Our signature check gives the verdict every official Twilio SDK's own test vectors assert.

``tests/fixtures/twilio/request_validator_vectors.json`` holds the inputs and asserted outcomes
of the request-validator tests of twilio-python, -node, -csharp, -php, -ruby, -java and -go.
The SDKs do not all try the same URL spellings, and each vector is a fact about one of them;
we pass all of them. The official Python package, run over the same vectors, parts from them
in exactly the places listed below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from walker_channels import (
    InvalidSignature,
    compute_twilio_signature,
    public_request_url,
    verify_twilio_signature,
)

Vector = dict[str, Any]

FIXTURE = Path(__file__).parents[1] / "fixtures" / "twilio" / "request_validator_vectors.json"
VECTORS: list[Vector] = json.loads(FIXTURE.read_text(encoding="utf-8"))["vectors"]

# Where twilio-python 9.13 does not give the verdict the vector's SDK asserts, and why.
PYTHON_PACKAGE_DIFFERS = {
    "node: should validate urls with special characters": (
        "Twilio signed the query with ' escaped as %27, as new URL() spells it in twilio-node;"
        " twilio-python only tries the URL as received"
    ),
    "csharp: TestValidateCredentialsArePreservedUpperCaseScheme": (
        "Twilio signed HTTP:// as configured; twilio-python's urlparse().geturl() lower-cases"
        " the scheme before signing"
    ),
}


def of_kind(kind: str) -> list[Any]:
    """The vectors of one kind, each with the SDK and test it comes from as its id."""
    return [pytest.param(vector, id=name(vector)) for vector in VECTORS if vector["kind"] == kind]


def name(vector: Vector) -> str:
    """``sdk: test name``, as in the SDK's test file."""
    return f"{vector['sdk']}: {vector['test']}"


def received_url(vector: Vector) -> str:
    """The URL to check: as given, or rebuilt on the public base URL the SDK test configures."""
    if "request_url" not in vector:
        return str(vector["url"])
    return public_request_url(vector["request_url"], {}, public_base_url=vector["public_base_url"])


def we_accept(vector: Vector) -> bool:
    """Our verdict on a 'validate' vector."""
    params = vector["body"] if vector["body"] is not None else vector["params"]
    try:
        verify_twilio_signature(vector["token"], received_url(vector), params, vector["signature"])
    except InvalidSignature:
        return False
    return True


def python_package_accepts(vector: Vector) -> bool:
    """twilio-python's verdict on a 'validate' vector; where it raises, the request is refused."""
    if vector["body"] is not None:
        params: str | MultiDict[str, str] = vector["body"]
    else:
        fields = (vector["params"] or {}).items()
        params = MultiDict([(key, v) for key, vs in fields for v in _listed(vs)])
    validator = RequestValidator(vector["token"])
    try:
        return bool(validator.validate(received_url(vector), params, vector["signature"]))
    except TypeError:  # a missing signature, or a JSON body without bodySHA256
        return False


def _listed(values: str | list[str]) -> list[str]:
    return [values] if isinstance(values, str) else values


def test_the_fixture_holds_every_kind_of_vector_from_every_sdk() -> None:
    assert {vector["sdk"] for vector in VECTORS} == {
        *("python", "node", "csharp", "php", "ruby", "java", "go"),
    }
    assert {vector["kind"] for vector in VECTORS} == {"validate", "compute", "body_hash"}
    assert len({name(vector) for vector in VECTORS}) == len(VECTORS)


@pytest.mark.parametrize("vector", of_kind("validate"))
def test_we_give_the_verdict_the_sdk_asserts(vector: Vector) -> None:
    assert we_accept(vector) is vector["valid"]


@pytest.mark.parametrize("vector", of_kind("compute"))
def test_we_compute_the_signature_the_sdk_expects(vector: Vector) -> None:
    signature = compute_twilio_signature(vector["token"], vector["url"], vector["params"])
    assert signature == vector["signature"]


@pytest.mark.parametrize("vector", of_kind("body_hash"))
def test_a_json_body_is_accepted_exactly_when_its_hash_is_the_one_the_sdk_expects(
    vector: Vector,
) -> None:
    url = f"https://mycompany.com/myapp.php?bodySHA256={vector['hash']}"
    signature = RequestValidator(vector["token"]).compute_signature(url, {})
    verdict = we_accept({**vector, "url": url, "signature": signature})
    assert verdict is vector["valid"]


def test_the_official_python_package_differs_from_the_vectors_only_where_listed() -> None:
    differs = {
        name(vector)
        for vector in VECTORS
        if vector["kind"] == "validate" and python_package_accepts(vector) is not vector["valid"]
    }
    assert differs == set(PYTHON_PACKAGE_DIFFERS)
