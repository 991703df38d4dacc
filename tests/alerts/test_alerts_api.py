"""`/v1/alerts`: create, read, change, delete, pages, validation, unknown ids."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem

VALID = {
    "name": "Logistics drop in the north",
    "metric": "logistics",
    "filters": {"region": ["north", "north-east"]},
    "group_by": ["channel"],
    "interval": "week",
    "tz": "Asia/Shanghai",
    "condition": {"type": "significant_drop", "confidence": 0.99},
    "min_n": 50,
}


def test_create_returns_the_stored_alert(client: TestClient, admin_headers: dict[str, str]) -> None:
    reply = client.post("/v1/alerts", headers=admin_headers, json=VALID)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    uuid.UUID(body["id"])
    assert {name: body[name] for name in VALID} == VALID
    assert body["enabled"] is True
    assert body["created_at"] == body["updated_at"]
    assert body["last_evaluated_start"] is None
    assert client.get(f"/v1/alerts/{body['id']}", headers=admin_headers).json() == body


def test_defaults(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = {
        "name": "n",
        "metric": "overall",
        "interval": "day",
        "condition": {"type": "significant_drop"},
    }
    created = client.post("/v1/alerts", headers=admin_headers, json=body).json()
    assert created["tz"] == "UTC"
    assert created["filters"] == {}
    assert created["group_by"] == []
    assert created["min_n"] == 30
    assert created["condition"] == {"type": "significant_drop", "confidence": 0.95}


def test_patch_any_field_and_delete(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/v1/alerts", headers=admin_headers, json=VALID).json()
    url = f"/v1/alerts/{created['id']}"
    change = {"enabled": False, "condition": {"type": "below", "value": -10}, "filters": None}
    reply = client.patch(url, headers=admin_headers, json=change)
    assert reply.status_code == 200, reply.text
    patched = reply.json()
    assert patched["enabled"] is False
    assert patched["condition"] == {"type": "below", "value": -10.0}
    assert patched["filters"] == {}
    assert patched["group_by"] == ["channel"]  # untouched
    assert patched["updated_at"] >= created["updated_at"]
    assert client.get(url, headers=admin_headers).json() == patched
    assert_problem(client.patch(url, headers=admin_headers, json={"name": None}), 422)
    assert_problem(client.patch(url, headers=admin_headers, json={"colour": "red"}), 422)
    assert client.delete(url, headers=admin_headers).status_code == 204
    assert_problem(client.get(url, headers=admin_headers), 404)
    assert_problem(client.delete(url, headers=admin_headers), 404)


@pytest.mark.parametrize(
    "change",
    [
        {"metric": "nps"},
        {"metric": None},
        {"interval": "month"},
        {"tz": "Mars/Olympus"},
        {"filters": {"order_id": ["o1"]}},
        {"filters": {"region": ["has space"]}},
        {"filters": {"region": []}},
        {"group_by": ["order_id"]},
        {"condition": {"type": "significant_drop", "confidence": 1}},
        {"condition": {"type": "significant_drop", "confidence": 0}},
        {"condition": {"type": "significant_drop", "confidence": "0.9"}},
        {"condition": {"type": "below"}},
        {"condition": {"type": "below", "value": 101}},
        {"condition": {"type": "rising"}},
        {"condition": {"type": "below", "value": 1, "extra": 1}},
        {"min_n": 0},
        {"min_n": 1.5},
        {"name": ""},
        {"name": "x" * 201},
        {"colour": "red"},
    ],
)
def test_invalid_alerts_are_422(
    client: TestClient, admin_headers: dict[str, str], change: dict[str, Any]
) -> None:
    body = {**VALID, **change}
    problem = assert_problem(client.post("/v1/alerts", headers=admin_headers, json=body), 422)
    assert problem["errors"]


def test_missing_fields_and_scope(
    client: TestClient, admin_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    for name in ("name", "metric", "interval", "condition"):
        body = {key: value for key, value in VALID.items() if key != name}
        assert_problem(client.post("/v1/alerts", headers=admin_headers, json=body), 422)
    assert_problem(client.post("/v1/alerts", headers=read_headers, json=VALID), 403)
    assert_problem(client.get("/v1/alerts", headers=read_headers), 403)
    assert_problem(client.get("/v1/alerts"), 401)


def test_unknown_ids_are_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    url = f"/v1/alerts/{uuid.uuid4()}"
    assert_problem(client.get(url, headers=admin_headers), 404)
    assert_problem(client.patch(url, headers=admin_headers, json={"enabled": False}), 404)
    assert_problem(client.delete(url, headers=admin_headers), 404)
    assert_problem(client.get(f"{url}/events", headers=admin_headers), 404)
    assert_problem(client.post(f"{url}/evaluate", headers=admin_headers), 404)
    assert_problem(client.get("/v1/alerts/not-a-uuid", headers=admin_headers), 422)


def test_evaluate_at_must_be_a_past_time(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/v1/alerts", headers=admin_headers, json=VALID).json()
    url = f"/v1/alerts/{created['id']}/evaluate"
    for at in ("yesterday", "2999-01-01T00:00:00Z", "0001-01-03", "0001-01-01T00:00:00+14:00"):
        problem = assert_problem(client.post(url, headers=admin_headers, params={"at": at}), 422)
        assert problem["errors"][0]["parameter"] == "at"
    # A date is midnight in the alert's zone: the week closed at Monday 2026-11-09 00:00
    # Shanghai time.
    reply = client.post(url, headers=admin_headers, params={"at": "2026-11-09"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["interval"] == {
        "start": "2026-11-01T16:00:00Z",
        "end": "2026-11-08T16:00:00Z",
    }
    assert reply.json()["groups_evaluated"] == 0
    # Evaluating now works too (the week that closed last Monday).
    assert client.post(url, headers=admin_headers).status_code == 201


def test_pages_of_alerts_and_events(client: TestClient, admin_headers: dict[str, str]) -> None:
    ids = [
        client.post("/v1/alerts", headers=admin_headers, json={**VALID, "name": f"a{i}"}).json()[
            "id"
        ]
        for i in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/alerts", headers=admin_headers, params=params).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]  # newest first, each once
    assert_problem(client.get("/v1/alerts", headers=admin_headers, params={"limit": 0}), 422)
    assert_problem(client.get("/v1/alerts", headers=admin_headers, params={"limit": 1001}), 422)
    assert_problem(client.get("/v1/alerts", headers=admin_headers, params={"cursor": "x!"}), 422)

    url = f"/v1/alerts/{ids[0]}"
    for day in ("2026-10-26", "2026-11-02", "2026-11-09"):  # three past weeks, in turn
        reply = client.post(f"{url}/evaluate", headers=admin_headers, params={"at": day})
        assert reply.status_code == 201
    first = client.get(f"{url}/events", headers=admin_headers, params={"limit": 2}).json()
    rest = client.get(
        f"{url}/events", headers=admin_headers, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert rest["next_cursor"] is None
    starts = [item["interval"]["start"] for item in first["items"] + rest["items"]]
    assert starts == ["2026-11-01T16:00:00Z", "2026-10-25T16:00:00Z", "2026-10-18T16:00:00Z"]


def test_operation_ids(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ids = {
        operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith("/v1/alerts")
        for operation in item.values()
    }
    assert ids == {
        f"alerts_{name}"
        for name in ("create", "list", "get", "update", "delete", "events", "evaluate")
    }
