"""The committed openapi.yaml is exactly what the app serves, with stable operation ids."""

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from nps_service.cli import render_openapi

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.yaml"

EXPECTED_OPERATION_IDS = {
    ("post", "/v1/displays"): "displays:create",
    ("post", "/v1/displays/{display_id}/decline"): "displays:decline",
    ("get", "/v1/displays/{display_id}"): "displays:get",
    ("get", "/v1/eligibility"): "eligibility:get",
    ("get", "/v1/contact-rules"): "contact-rules:get",
    ("put", "/v1/contact-rules"): "contact-rules:put",
    ("get", "/widget/nps-survey.js"): "widget:script",
    ("post", "/v1/alerts"): "alerts:create",
    ("get", "/v1/alerts"): "alerts:list",
    ("get", "/v1/alerts/{alert_id}"): "alerts:get",
    ("patch", "/v1/alerts/{alert_id}"): "alerts:update",
    ("delete", "/v1/alerts/{alert_id}"): "alerts:delete",
    ("get", "/v1/alerts/{alert_id}/events"): "alerts:events",
    ("post", "/v1/alerts/{alert_id}/evaluate"): "alerts:evaluate",
    ("delete", "/v1/respondents/{respondent_id}"): "respondents:erase",
    ("get", "/v1/audit"): "audit:list",
    ("post", "/v1/webhooks"): "webhooks:create",
    ("get", "/v1/webhooks"): "webhooks:list",
    ("get", "/v1/webhooks/{webhook_id}"): "webhooks:get",
    ("patch", "/v1/webhooks/{webhook_id}"): "webhooks:update",
    ("delete", "/v1/webhooks/{webhook_id}"): "webhooks:delete",
    ("get", "/v1/webhooks/{webhook_id}/deliveries"): "webhooks:deliveries",
    ("post", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): "webhooks:retryDelivery",
    ("post", "/v1/responses"): "responses:create",
    ("post", "/v1/responses/batch"): "responses:createBatch",
    ("get", "/v1/responses"): "responses:list",
    ("get", "/v1/responses/{response_id}"): "responses:get",
    ("get", "/v1/responses/export"): "responses:export",
    ("get", "/v1/scores"): "scores:get",
    ("get", "/v1/scores/compare"): "scores:compare",
    ("get", "/v1/scores/trend"): "scores:trend",
    ("get", "/v1/merchants"): "merchants:list",
    ("get", "/v1/merchants/{merchant_id}/scorecard"): "merchants:scorecard",
    ("get", "/v1/drivers"): "drivers:get",
    ("get", "/healthz"): "ops:healthz",
    ("get", "/readyz"): "ops:readyz",
    ("get", "/metrics"): "ops:metrics",
}


def test_committed_document_matches_the_app() -> None:
    # Regenerate with: nps-service openapi --output openapi.yaml
    assert yaml.safe_load(COMMITTED.read_text()) == yaml.safe_load(render_openapi())


def test_served_document_matches_the_committed_one(client: TestClient) -> None:
    served = client.get("/openapi.json").json()
    assert served == yaml.safe_load(COMMITTED.read_text())


def test_operation_ids_are_stable() -> None:
    document = yaml.safe_load(COMMITTED.read_text())
    found = {
        (method, path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert found == EXPECTED_OPERATION_IDS
    assert document["openapi"].startswith("3.1")


def test_error_responses_are_problem_documents() -> None:
    document = yaml.safe_load(COMMITTED.read_text())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "503":
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
