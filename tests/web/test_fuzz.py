"""The API fuzzed from its own OpenAPI document (schemathesis), on both databases.

Every operation gets generated requests, valid and invalid, with an admin key, against a
database holding a few answers. Whatever arrives, the service must answer without a 5xx,
with a status code and content type its document declares, and with a body that matches
the declared schema (problem documents included). NPS_FUZZ_EXAMPLES raises the count.
"""

import os
from typing import Any

import pytest
import schemathesis
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import answer, post_all
from tests.web.test_openapi import COMMITTED

# Hundreds of generated requests per operation.
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("NPS_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _seed(client: TestClient, headers: dict[str, str]) -> None:
    """Answers that give every endpoint something to aggregate, rank and export."""
    bodies = []
    for index in range(40):
        bodies.append(
            answer(
                index % 11,
                dimensions={
                    "logistics": (index * 3) % 11,
                    "product": (index * 7) % 11,
                    "service": (index * 5) % 11,
                    "app": (index + 4) % 11,
                },
                context={
                    "merchant_id": f"m_{index % 4}",
                    "category": "beauty",
                    "channel": "live_stream",
                    "platform": "ios",
                },
                properties={"campaign": "double11"},
                submitted_at=f"2026-11-{1 + index % 20:02d}T0{index % 10}:00:00+08:00",
            )
        )
    post_all(client, headers, bodies)


def _cases() -> list[tuple[str, GenerationMode]]:
    """Valid requests for every operation; invalid ones where there is input to spoil."""
    pairs = []
    for item in yaml.safe_load(COMMITTED.read_text())["paths"].values():
        for operation in item.values():
            pairs.append((operation["operationId"], GenerationMode.POSITIVE))
            if operation.get("parameters") or operation.get("requestBody"):
                pairs.append((operation["operationId"], GenerationMode.NEGATIVE))
    return sorted(pairs)


@pytest.mark.parametrize(("operation_id", "mode"), _cases())
def test_every_generated_request_gets_a_declared_answer(
    client: TestClient, admin_headers: dict[str, str], operation_id: str, mode: GenerationMode
) -> None:
    _seed(client, admin_headers)
    operation = schemathesis.openapi.from_asgi("/openapi.json", client.app).find_operation_by_id(
        operation_id
    )

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers=admin_headers, checks=CHECKS)

    check()
