"""The FastAPI app against its own OpenAPI document (schemathesis), on SQLite and PostgreSQL.

Every built-in check runs (no 5xx, status codes, content types and response bodies as
documented, schema-invalid requests refused) except ``positive_data_acceptance``: the schema
cannot state every rule a valid request must meet (a real phone number or email address, an
IANA time zone, "text or a template", a cursor from a previous page), so some schema-valid
requests are rightly refused with 4xx; ``test_fuzz.py`` checks those answers instead.

The app is built as in the rest of this folder (echo agent, recording transports), with a
principal that is always a superuser so every admin route is reached, and with unsigned
webhooks allowed (the development flag) so generated forms get past the signature check into
the parsers and the conversation flow. The number of generated examples per operation is
bounded so the whole run takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance
from web_harness import build_test_services

from db_urls import url_with_schema
from walker_channels.models import Principal

EXAMPLES_PER_OPERATION = 15
MIN_OPERATIONS = 12
"""Of the 13 operations, only the template listing has nothing a negative case can break."""
ROOT = Principal(user_id="root", is_superuser=True)


def superuser() -> Principal:
    """Every caller is a superuser: admin routes are exercised, not refused."""
    return ROOT


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[schemathesis.BaseSchema]:
    """The OpenAPI document of an app mounting the router, loaded from the running app."""
    from walker_channels_fastapi import create_router

    database = tmp_path_factory.mktemp("schemathesis") / "walker.db"
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url").replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
        schema = request.getfixturevalue("pg_schema")
        overrides["walker_database_url"] = url_with_schema(url, schema)
    services, _, _ = build_test_services(
        database,
        twilio_auth_token=None,
        walker_allow_unsigned_webhooks=True,
        walker_sweep_interval=0,
        **overrides,
    )
    app = FastAPI()
    app.include_router(create_router(services, principal=superuser))
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    # A generated body past the request-size limit is refused with 413 before it is validated:
    # a rejection of invalid data as much as a 422 is.
    rejection = loaded.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    yield loaded
    shutdown_lifespans()  # closes the services on their own loop


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(
    api_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    exercised = []
    for result in api_schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        if fuzz(operation, mode):
            exercised.append(operation.label)

    assert len(exercised) >= MIN_OPERATIONS, exercised


def fuzz(operation: schemathesis.APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> bool:
    """Send generated requests to ``operation``; False if ``mode`` cannot produce any."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    try:
        call()
    except Unsatisfiable:
        # Negative mode has nothing to break in an operation without parameters or body.
        if mode is GenerationMode.POSITIVE:
            raise
        return False
    return True
