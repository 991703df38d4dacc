"""The committed openapi.yaml is exactly what the app serves, with stable operation ids."""

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from nps_service.cli import render_openapi

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.yaml"

EXPECTED_OPERATION_IDS = {
    ("post", "/v1/displays"): "displays_create",
    ("post", "/v1/displays/{display_id}/decline"): "displays_decline",
    ("get", "/v1/displays/{display_id}"): "displays_get",
    ("get", "/v1/eligibility"): "eligibility_get",
    ("get", "/v1/contact-rules"): "contact_rules_get",
    ("put", "/v1/contact-rules"): "contact_rules_put",
    ("get", "/widget/nps-survey.js"): "widget_script",
    ("post", "/v1/alerts"): "alerts_create",
    ("get", "/v1/alerts"): "alerts_list",
    ("get", "/v1/alerts/{alert_id}"): "alerts_get",
    ("patch", "/v1/alerts/{alert_id}"): "alerts_update",
    ("delete", "/v1/alerts/{alert_id}"): "alerts_delete",
    ("get", "/v1/alerts/{alert_id}/events"): "alerts_events",
    ("post", "/v1/alerts/{alert_id}/evaluate"): "alerts_evaluate",
    ("delete", "/v1/respondents/{respondent_id}"): "respondents_erase",
    ("get", "/v1/audit"): "audit_list",
    ("post", "/v1/webhooks"): "webhooks_create",
    ("get", "/v1/webhooks"): "webhooks_list",
    ("get", "/v1/webhooks/{webhook_id}"): "webhooks_get",
    ("patch", "/v1/webhooks/{webhook_id}"): "webhooks_update",
    ("delete", "/v1/webhooks/{webhook_id}"): "webhooks_delete",
    ("get", "/v1/webhooks/{webhook_id}/deliveries"): "webhooks_deliveries",
    ("post", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): "webhooks_retry_delivery",
    ("post", "/v1/responses"): "responses_create",
    ("post", "/v1/responses/batch"): "responses_create_batch",
    ("get", "/v1/responses"): "responses_list",
    ("get", "/v1/responses/{response_id}"): "responses_get",
    ("get", "/v1/responses/export"): "responses_export",
    ("get", "/v1/scores"): "scores_get",
    ("get", "/v1/scores/compare"): "scores_compare",
    ("get", "/v1/scores/trend"): "scores_trend",
    ("get", "/v1/merchants"): "merchants_list",
    ("get", "/v1/merchants/{merchant_id}/scorecard"): "merchants_scorecard",
    ("get", "/v1/drivers"): "drivers_get",
    ("get", "/healthz"): "ops_healthz",
    ("get", "/readyz"): "ops_readyz",
    ("get", "/metrics"): "ops_metrics",
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
