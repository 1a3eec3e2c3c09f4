"""Every API operation, fed what its OpenAPI document allows and what it does not: never a
server error, and every answer matches the document (status, content type, body schema)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# On the embedded SQLite default too: there an id beyond what a column holds used to be a 500.
pytestmark = pytest.mark.smoke

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_no_input_makes_the_api_fail_or_leave_its_document(app, prov, api_headers):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            exercise(operation, mode, api_headers)


def exercise(operation, mode, api_headers) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def one(case) -> None:
        # `Prefer: wait` would hold a provision request open for a job no worker runs here.
        headers = {name: value for name, value in (case.headers or {}).items()
                   if name.lower() != "prefer"}
        case.headers = {**headers, **api_headers}
        case.call_and_validate(checks=CHECKS)

    one()
