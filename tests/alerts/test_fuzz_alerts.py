"""`/v1/alerts` fuzzed from the app's own OpenAPI document (as tests/web/test_fuzz.py does
for the committed one), on both databases: no 5xx, declared statuses and bodies."""

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from tests.alerts.planted import DROP_ALERT, create
from tests.web.test_fuzz import CHECKS, EXAMPLES

pytestmark = pytest.mark.slow

OPERATIONS = ("create", "list", "get", "update", "delete", "events", "evaluate")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("name", OPERATIONS)
def test_alerts_answer_as_declared(
    client: TestClient, admin_headers: dict[str, str], name: str, mode: GenerationMode
) -> None:
    create(client, admin_headers, **DROP_ALERT)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operation = schema.find_operation_by_id(f"alerts_{name}")

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers=admin_headers, checks=CHECKS)

    check()
