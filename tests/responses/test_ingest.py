"""POST /v1/responses: the stored body, idempotent retries by id, and 409 on a reused id."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, stored_n

# Clock slack when comparing server-set times with the test's own clock readings.
SLACK = timedelta(seconds=2)


def parse_utc(text: str) -> datetime:
    """An RFC 3339 timestamp the server wrote in UTC with a 'Z' suffix."""
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text[:-1] + "+00:00")


def full_body() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "respondent_id": "u_123",
        "score": 9,
        "dimensions": {"logistics": 8, "app": 9},
        "comment": "Parcel came a day late",
        "context": {"merchant_id": "m_42", "region": "CN-BJ", "order_id": "o_9"},
        "weight": 2.5,
        "properties": {"campaign": "double11", "vip": True, "visits": 3},
        "submitted_at": "2025-11-20T10:00:00+08:00",
    }


def test_create_returns_the_stored_body(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    body = full_body()
    before = datetime.now(UTC)
    reply = client.post("/v1/responses", headers=ingest_headers, json=body)
    after = datetime.now(UTC)
    assert reply.status_code == 201, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    stored = reply.json()
    received_at = parse_utc(stored.pop("received_at"))
    assert before - SLACK <= received_at <= after + SLACK
    assert stored == {
        "id": body["id"],
        "respondent_id": "u_123",
        "score": 9,
        "dimensions": {"logistics": 8, "product": None, "service": None, "app": 9},
        "comment": "Parcel came a day late",
        "context": {
            "merchant_id": "m_42",
            "category": None,
            "channel": None,
            "region": "CN-BJ",
            "platform": None,
            "touchpoint": None,
            "order_id": "o_9",
        },
        "weight": 2.5,
        "properties": {"campaign": "double11", "vip": True, "visits": 3},
        # 10:00 at +08:00 is 02:00 UTC.
        "submitted_at": "2025-11-20T02:00:00Z",
        "display_id": None,
    }
    # What GET returns is exactly what the 201 said was stored.
    fetched = client.get(f"/v1/responses/{body['id']}", headers=read_headers)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == reply.json()
    assert stored_n(client, read_headers) == 1


def test_minimal_body_gets_defaults(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    body = {"id": str(uuid.uuid4()), "respondent_id": "u_1", "score": 6}
    before = datetime.now(UTC)
    reply = client.post("/v1/responses", headers=ingest_headers, json=body)
    after = datetime.now(UTC)
    assert reply.status_code == 201, reply.text
    stored = reply.json()
    assert stored["id"] == body["id"]
    assert stored["weight"] == 1.0
    assert stored["comment"] is None
    assert stored["dimensions"] == {
        "logistics": None,
        "product": None,
        "service": None,
        "app": None,
    }
    assert stored["context"] == {
        "merchant_id": None,
        "category": None,
        "channel": None,
        "region": None,
        "platform": None,
        "touchpoint": None,
        "order_id": None,
    }
    # submitted_at defaults to the time of receipt; received_at is set by the server.
    for field in ("submitted_at", "received_at"):
        assert before - SLACK <= parse_utc(stored[field]) <= after + SLACK, field
    fetched = client.get(f"/v1/responses/{body['id']}", headers=read_headers)
    assert fetched.json() == stored


def test_retry_with_same_id_and_content_returns_200_and_counts_once(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    body = full_body()
    first = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert first.status_code == 201, first.text
    for _ in range(2):
        retry = client.post("/v1/responses", headers=ingest_headers, json=body)
        assert retry.status_code == 200, retry.text
        # The stored response, not a new one: same received_at.
        assert retry.json() == first.json()
    fetched = client.get(f"/v1/responses/{body['id']}", headers=read_headers)
    assert fetched.json() == first.json()
    assert stored_n(client, read_headers) == 1


def test_retry_omitting_submitted_at_is_the_same_answer(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    body = full_body()
    first = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert first.status_code == 201, first.text
    retry_body = {k: v for k, v in body.items() if k != "submitted_at"}
    retry = client.post("/v1/responses", headers=ingest_headers, json=retry_body)
    assert retry.status_code == 200, retry.text
    assert retry.json()["submitted_at"] == "2025-11-20T02:00:00Z"
    assert retry.json() == first.json()
    assert stored_n(client, read_headers) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("score", 3),
        ("respondent_id", "u_124"),
        ("comment", "Parcel came on time"),
        ("comment", None),
        ("dimensions", {"logistics": 8, "app": 8}),
        ("dimensions", {"logistics": 8, "app": 9, "service": 5}),
        ("context", {"merchant_id": "m_43", "region": "CN-BJ", "order_id": "o_9"}),
        ("weight", 2.0),
        ("properties", {"campaign": "double12", "vip": True, "visits": 3}),
        ("properties", {"campaign": "double11", "vip": True}),
        ("submitted_at", "2025-11-20T11:00:00+08:00"),
    ],
)
def test_same_id_with_different_content_is_409(
    client: TestClient,
    ingest_headers: dict[str, str],
    read_headers: dict[str, str],
    field: str,
    value: Any,
) -> None:
    body = full_body()
    first = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert first.status_code == 201, first.text
    changed = {**body, field: value}
    reply = client.post("/v1/responses", headers=ingest_headers, json=changed)
    assert_problem(reply, 409)
    fetched = client.get(f"/v1/responses/{body['id']}", headers=read_headers)
    assert fetched.json() == first.json()
    assert stored_n(client, read_headers) == 1


@pytest.mark.parametrize(
    ("first_fields", "retry_fields"),
    [
        ({"properties": {"n": 1}}, {"properties": {"n": 1.0}}),
        ({"properties": {"n": 2.0}}, {"properties": {"n": 2}}),
        ({"properties": {"a": 1, "b": "x"}}, {"properties": {"b": "x", "a": 1}}),
        ({"weight": 1}, {"weight": 1.0}),
        ({"weight": 3.0}, {"weight": 3}),
    ],
    ids=["prop-1-vs-1.0", "prop-2.0-vs-2", "prop-key-order", "weight-1-vs-1.0", "weight-3.0-vs-3"],
)
def test_equal_numbers_are_the_same_content(
    client: TestClient,
    ingest_headers: dict[str, str],
    read_headers: dict[str, str],
    first_fields: dict[str, Any],
    retry_fields: dict[str, Any],
) -> None:
    body = answer(8, **first_fields)
    first = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert first.status_code == 201, first.text
    retry = client.post("/v1/responses", headers=ingest_headers, json={**body, **retry_fields})
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert stored_n(client, read_headers) == 1


@pytest.mark.parametrize(
    ("first_value", "retry_value"),
    [("1", 1), (1, "1"), (True, 1), (1, True), ("true", True), (False, 0)],
)
def test_property_values_of_different_json_types_differ(
    client: TestClient,
    ingest_headers: dict[str, str],
    read_headers: dict[str, str],
    first_value: Any,
    retry_value: Any,
) -> None:
    body = answer(8, properties={"n": first_value})
    first = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert first.status_code == 201, first.text
    retry = client.post(
        "/v1/responses", headers=ingest_headers, json={**body, "properties": {"n": retry_value}}
    )
    assert_problem(retry, 409)
    fetched = client.get(f"/v1/responses/{body['id']}", headers=read_headers).json()
    assert fetched["properties"] == {"n": first_value}
    assert type(fetched["properties"]["n"]) is type(first_value)
    assert stored_n(client, read_headers) == 1


def test_server_assigns_an_id_when_absent(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    body = {"respondent_id": "u_1", "score": 10}
    first = client.post("/v1/responses", headers=ingest_headers, json=body)
    second = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    ids = [uuid.UUID(first.json()["id"]), uuid.UUID(second.json()["id"])]
    # Without an id a retry cannot be recognised: two answers, two ids.
    assert ids[0] != ids[1]
    for response_id, reply in zip(ids, (first, second), strict=True):
        fetched = client.get(f"/v1/responses/{response_id}", headers=read_headers)
        assert fetched.status_code == 200, fetched.text
        assert fetched.json() == reply.json()
    assert stored_n(client, read_headers) == 2


def test_unknown_id_is_404(client: TestClient, read_headers: dict[str, str]) -> None:
    reply = client.get(f"/v1/responses/{uuid.uuid4()}", headers=read_headers)
    assert_problem(reply, 404)
