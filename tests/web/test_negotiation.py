"""Content negotiation: 406 when the Accept header admits nothing an operation answers;
CSV where an operation has it; JSON operations documented as JSON only."""

import re
import uuid
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from starlette.requests import Request

from nps_service.web.media import media_ranges, quality, wants_csv
from tests.helpers import answer, assert_problem, post_all
from tests.web.test_openapi import COMMITTED

CSV_TWINS = {
    "/v1/scores": "/v1/scores.csv",
    "/v1/scores/trend": "/v1/scores/trend.csv",
    "/v1/scores/compare": "/v1/scores/compare.csv",
    "/v1/drivers": "/v1/drivers.csv",
    "/v1/merchants": "/v1/merchants.csv",
}
PARAMS = {
    "/v1/scores/trend": {"interval": "day"},
    "/v1/scores/compare": {"from": "2026-11-01", "to": "2026-11-02"},
    "/v1/merchants": {"category": "beauty"},
}


def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMMITTED.read_text())
    return document


def _json_get_operations() -> list[str]:
    """GET paths under /v1 whose 200 is JSON, with their ids filled in."""
    paths = []
    for path, item in _document()["paths"].items():
        operation = item.get("get")
        ok = (operation or {}).get("responses", {}).get("200", {})
        if path.startswith("/v1/") and list(ok.get("content", {})) == ["application/json"]:
            paths.append(re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
    return paths


def _request(accept: str) -> Request:
    return Request({"type": "http", "headers": [(b"accept", accept.encode())]})


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        ("text/csv", True),
        ("text/csv; charset=utf-8", True),
        ("text/*", True),
        ("text/csv, application/json", False),  # a tie: JSON, the default
        ("application/json;q=0.5, text/csv", True),
        ("text/csv;q=0.5, application/json", False),
        ("text/csv;q=0", False),
        ("*/*", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_wants_csv_reads_the_accept_header(accept: str, csv: bool) -> None:
    assert wants_csv(_request(accept), None) is csv
    assert wants_csv(_request(accept), "json") is False
    assert wants_csv(_request(accept), "csv") is True


def test_media_ranges_and_quality() -> None:
    ranges = media_ranges("text/*;q=0.3, text/csv;q=0, application/json; q=0.7, bad, x/y;q=2")
    assert ranges == [("text", "*", 0.3), ("text", "csv", 0.0), ("application", "json", 0.7)]
    assert quality(ranges, "text/csv") == 0.0  # the most specific range decides
    assert quality(ranges, "text/plain") == 0.3
    assert quality(ranges, "application/json") == 0.7
    assert quality(ranges, "image/png") == 0.0
    assert quality(media_ranges("*/*;q=0.2"), "image/png") == 0.2
    assert quality(media_ranges("*/*"), "image/png", wildcard=False) == 0.0


@pytest.mark.parametrize("path", _json_get_operations())
def test_json_operations_refuse_what_they_cannot_answer(
    client: TestClient, admin_headers: dict[str, str], path: str
) -> None:
    accept = "text/html" if path in CSV_TWINS else "text/csv"
    reply = client.get(path, headers={**admin_headers, "Accept": accept}, params=PARAMS.get(path))
    body = assert_problem(reply, 406)
    assert "application/json" in body["detail"]
    if path in CSV_TWINS:
        assert "text/csv" in body["detail"]


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/*",
        "*/*",
        "application/problem+json",
        "text/csv;q=0.9, application/json;q=0.1",
        "garbage",
        "",
    ],
)
def test_a_header_admitting_json_gets_json(
    client: TestClient, admin_headers: dict[str, str], accept: str
) -> None:
    reply = client.get("/v1/webhooks", headers={**admin_headers, "Accept": accept})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")


def test_a_refused_json_is_refused_even_beside_csv(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Accept": "text/csv, application/json;q=0"}
    assert_problem(client.get("/v1/merchants/m_1/scorecard", headers=headers), 406)
    reply = client.get("/v1/scores", headers=headers)  # CSV is acceptable there
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")


def test_posts_are_negotiated_too(client: TestClient, admin_headers: dict[str, str]) -> None:
    reply = client.post(
        "/v1/responses", headers={**admin_headers, "Accept": "text/csv"}, json=answer(9)
    )
    assert_problem(reply, 406)
    reply = client.get("/v1/scores", headers=admin_headers)
    assert reply.json()["groups"][0]["overall"]["n"] == 0  # nothing was stored


def test_format_decides_over_accept(client: TestClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Accept": "text/html"}
    for path, twin in CSV_TWINS.items():
        params = PARAMS.get(path, {})
        reply = client.get(path, headers=headers, params={**params, "format": "json"})
        assert reply.status_code == 200, (path, reply.text)
        assert reply.headers["content-type"].startswith("application/json")
        reply = client.get(path, headers=headers, params={**params, "format": "csv"})
        assert reply.status_code == 200, (path, reply.text)
        assert reply.headers["content-type"] == "text/csv; charset=utf-8"
        # The `.csv` operations answer CSV whatever the header: their URL says what they are.
        for accept in ("application/json", "text/html"):
            reply = client.get(twin, headers={**admin_headers, "Accept": accept}, params=params)
            assert reply.status_code == 200, (twin, reply.text)
            assert reply.headers["content-type"] == "text/csv; charset=utf-8"


def test_what_is_not_negotiated_here(client: TestClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Accept": "text/html"}
    post_all(client, admin_headers, [answer(9)])
    # The export negotiates NDJSON or CSV itself, as before.
    reply = client.get("/v1/responses/export", headers=headers)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/x-ndjson")
    reply = client.get("/v1/responses/export", headers={**admin_headers, "Accept": "text/csv"})
    assert reply.headers["content-type"].startswith("text/csv")
    # No such route, or no such method: 404 and 405 as before.
    assert_problem(client.get("/v1/nothing", headers=headers), 404)
    assert_problem(client.put("/v1/scores", headers=headers), 405)
    # Pages and operations outside /v1 are not touched.
    csv_only = {"Accept": "text/csv"}
    assert client.get("/healthz", headers=csv_only).status_code == 200
    assert client.get("/metrics", headers=csv_only).status_code == 200
    assert client.get("/widget/nps-survey.js", headers=csv_only).status_code == 200


def test_json_operations_document_json_only() -> None:
    """One type per operation for generated clients: the JSON paths declare JSON, the
    `.csv` paths declare CSV, and neither documents `format`; `bom` only where CSV is."""
    paths = _document()["paths"]
    for path, twin in CSV_TWINS.items():
        json_operation, csv_operation = paths[path]["get"], paths[twin]["get"]
        assert list(json_operation["responses"]["200"]["content"]) == ["application/json"]
        assert list(csv_operation["responses"]["200"]["content"]) == ["text/csv"]
        assert csv_operation["responses"]["200"]["content"]["text/csv"]["schema"]["type"] == (
            "string"
        )
        json_names = [p["name"] for p in json_operation["parameters"]]
        csv_names = [p["name"] for p in csv_operation["parameters"]]
        assert "format" not in json_names
        assert "bom" not in json_names
        assert csv_names == [*json_names, "bom"]  # the twin's parameters, and the BOM
        assert "format=csv" in csv_operation["description"]
        for status, response in csv_operation["responses"].items():
            if status != "200":
                assert list(response["content"]) == ["application/problem+json"]
    export = [p["name"] for p in paths["/v1/responses/export"]["get"]["parameters"]]
    assert "bom" in export


def test_hidden_parameters_are_known_parameters(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """`format` and `bom` are out of the JSON operations' documents, but not unknown."""
    reply = client.get(
        "/v1/scores", headers=admin_headers, params={"format": "csv", "bom": "false"}
    )
    assert reply.status_code == 200, reply.text
    for path, params in (
        ("/v1/merchants/m_1/scorecard", {"format": "csv"}),
        ("/v1/merchants/m_1/scorecard", {"bom": "true"}),
        ("/v1/scores.csv", {"format": "csv"}),
        ("/v1/webhooks", {"bom": "false"}),
    ):
        problem = assert_problem(client.get(path, headers=admin_headers, params=params), 422)
        (name,) = params
        assert {"parameter": name, "detail": "unknown query parameter"} in problem["errors"]
