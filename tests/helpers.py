"""Small helpers shared by the API tests."""

import uuid
from typing import Any

from fastapi.testclient import TestClient


def answer(score: int, **fields: Any) -> dict[str, Any]:
    """A valid answer body with a fresh id; keyword arguments override or add fields."""
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "respondent_id": "u_1", "score": score}
    body.update(fields)
    return body


def post_all(client: TestClient, headers: dict[str, str], answers: list[dict[str, Any]]) -> None:
    """Store answers through the batch endpoint, 1000 at a time."""
    for start in range(0, len(answers), 1000):
        reply = client.post(
            "/v1/responses/batch",
            headers=headers,
            json={"responses": answers[start : start + 1000]},
        )
        assert reply.status_code in (200, 201), reply.text


def assert_problem(reply: Any, status: int) -> dict[str, Any]:
    """The reply is an RFC 9457 problem document with this status."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    assert body["detail"]
    return body


def stored_n(client: TestClient, headers: dict[str, str]) -> int:
    """How many answers the global NPS counts."""
    reply = client.get("/v1/scores", headers=headers)
    assert reply.status_code == 200, reply.text
    (group,) = reply.json()["groups"]
    n: int = group["overall"]["n"]
    return n
