"""The committed openapi.yaml is exactly what the app serves, with stable operation ids."""

import re
from pathlib import Path
from typing import Any

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
    ("get", "/v1/scores.csv"): "scores_get_csv",
    ("get", "/v1/scores/trend.csv"): "scores_trend_csv",
    ("get", "/v1/scores/compare.csv"): "scores_compare_csv",
    ("get", "/v1/drivers.csv"): "drivers_get_csv",
    ("get", "/v1/merchants.csv"): "merchants_list_csv",
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
            if path.startswith("/v1/"):
                assert {"401", "422", "429", "503"} <= set(operation["responses"]), (method, path)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = yaml.safe_load(COMMITTED.read_text())
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_operation_ids_are_snake_case_tag_then_action() -> None:
    """The convention the README states: `<tag>_<action>`, stable once published."""
    for _method, _path, operation in _operations():
        tag = operation["tags"][0].replace("-", "_")
        assert re.fullmatch(rf"{tag}_[a-z]+(_[a-z]+)*", operation["operationId"])


def test_every_operation_is_described_tagged_and_secured() -> None:
    document = yaml.safe_load(COMMITTED.read_text())
    declared_tags = {tag["name"] for tag in document["tags"]}
    for method, path, operation in _operations():
        where = (method, path)
        assert operation.get("description"), where
        assert set(operation["tags"]) <= declared_tags, where
        assert "security" in operation, where  # [] for the public ones
        assert any(status.startswith("4") for status in operation["responses"]), where
    assert document["servers"]
    assert document["info"]["license"]["identifier"] == "Apache-2.0"


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, with a `$ref` (and an array's item `$ref`) replaced by its target."""
    document = yaml.safe_load(COMMITTED.read_text())
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "items" in schema:
        schema = {**schema, "items": _resolved(schema["items"])}
    return schema


def _parameter(path: str, name: str) -> dict[str, Any]:
    document = yaml.safe_load(COMMITTED.read_text())
    parameters = document["paths"][path]["get"]["parameters"]
    return _resolved(next(p for p in parameters if p["name"] == name)["schema"])


def test_recurring_enumerations_are_named_once() -> None:
    """One `Segment`, `Interval`, `ScoreSort`... type in generated clients, not one per
    operation and field."""
    document = yaml.safe_load(COMMITTED.read_text())
    for path in ("/v1/scores", "/v1/scores/trend", "/v1/scores.csv", "/v1/drivers"):
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["group_by"]["items"] == {"$ref": "#/components/schemas/Segment"}
        assert parameters["interval"]["$ref"] == "#/components/schemas/Interval"
    alert = document["components"]["schemas"]["AlertIn"]["properties"]["metric"]
    assert alert["$ref"] == "#/components/schemas/Metric"


def test_closed_sets_are_enumerations_and_numbers_are_bounded() -> None:
    assert _parameter("/v1/scores", "interval")["enum"] == ["day", "week", "month"]
    assert _parameter("/v1/scores/trend", "interval")["enum"] == ["day", "week", "month"]
    group_by = _parameter("/v1/scores", "group_by")["items"]["enum"]
    assert group_by == ["merchant_id", "category", "channel", "region", "platform", "touchpoint"]
    assert set(_parameter("/v1/scores", "sort")["enum"]) >= {"nps", "-nps", "-ci_low", "key"}
    assert "-logistics.ci_low" in _parameter("/v1/merchants", "sort")["enum"]
    confidence = _parameter("/v1/scores", "confidence")
    assert (confidence["minimum"], confidence["maximum"]) == (0.5, 0.999)
    weight = yaml.safe_load(COMMITTED.read_text())["components"]["schemas"]["ResponseIn"]
    bounds = weight["properties"]["weight"]["anyOf"][0]
    assert (bounds["exclusiveMinimum"], bounds["maximum"]) == (0, 1e12)


def test_query_parameters_are_never_null() -> None:
    """Absent or a value: no `anyOf [..., null]` that makes generators type `X | None`."""
    for method, path, operation in _operations():
        for parameter in operation.get("parameters", []):
            assert "anyOf" not in parameter["schema"], (method, path, parameter["name"])


def test_property_filters_are_declared_on_every_analytic_read() -> None:
    for path in ("/v1/scores", "/v1/scores/trend", "/v1/drivers", "/v1/responses"):
        schema = _parameter(path, "property")
        assert schema["type"] == "array"
        assert re.match(schema["items"]["pattern"], "campaign=double11")
        assert not re.match(schema["items"]["pattern"], "campaign")


def test_enumerations_match_what_the_server_accepts(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """Every documented value is accepted, and a value outside the enumeration is a 422."""
    for value in _parameter("/v1/scores", "sort")["enum"]:
        assert client.get("/v1/scores", headers=admin_headers, params={"sort": value}).is_success
    for value in _parameter("/v1/merchants", "sort")["enum"]:
        params = {"sort": value, "category": "beauty"}
        assert client.get("/v1/merchants", headers=admin_headers, params=params).is_success
    for value in _parameter("/v1/scores", "group_by")["items"]["enum"]:
        params = {"group_by": value}
        assert client.get("/v1/scores", headers=admin_headers, params=params).is_success
    for params in ({"sort": "score"}, {"interval": "year"}, {"group_by": "city"}):
        reply = client.get("/v1/scores", headers=admin_headers, params=params)
        assert reply.status_code == 422, params
