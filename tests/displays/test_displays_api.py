"""POST /v1/displays, declines, GET /v1/displays/{id}, and answers that name a display."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem


def display(respondent: str = "u_1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "respondent_id": respondent}
    body.update(fields)
    return body


def test_create_returns_the_stored_display_and_a_retry_is_200(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    body = display(
        touchpoint="post_delivery",
        context={"merchant_id": "m_42", "category": "beauty", "order_id": "o_9"},
        shown_at="2026-11-20T10:00:00+08:00",
    )
    reply = client.post("/v1/displays", headers=ingest_headers, json=body)
    assert reply.status_code == 201, reply.text
    stored = reply.json()
    assert stored["id"] == body["id"]
    assert stored["touchpoint"] == "post_delivery"
    assert stored["context"]["merchant_id"] == "m_42"
    assert stored["context"]["touchpoint"] == "post_delivery"
    assert stored["context"]["channel"] is None
    assert stored["shown_at"] == "2026-11-20T02:00:00Z"
    assert stored["declined_at"] is None
    assert stored["response_id"] is None
    again = client.post("/v1/displays", headers=ingest_headers, json=body)
    assert again.status_code == 200
    assert again.json() == stored
    # A retry that omits shown_at is still the same display.
    without_time = {k: v for k, v in body.items() if k != "shown_at"}
    assert client.post("/v1/displays", headers=ingest_headers, json=without_time).status_code == 200
    fetched = client.get(f"/v1/displays/{body['id']}", headers=read_headers)
    assert fetched.status_code == 200
    assert fetched.json() == stored


def test_an_id_reused_for_another_display_is_409(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    body = display(touchpoint="a")
    assert client.post("/v1/displays", headers=ingest_headers, json=body).status_code == 201
    other = {**body, "touchpoint": "b"}
    assert_problem(client.post("/v1/displays", headers=ingest_headers, json=other), 409)


def test_bad_displays_are_422_naming_the_field(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    cases = [
        ({"respondent_id": ""}, "/respondent_id"),
        ({"respondent_id": "u", "touchpoint": "bad value"}, "/touchpoint"),
        ({"respondent_id": "u", "shown_at": future}, "/shown_at"),
        ({"respondent_id": "u", "shown_at": "2026-11-20T10:00:00"}, "/shown_at"),
        ({"respondent_id": "u", "surprise": 1}, "/surprise"),
        ({"respondent_id": "u", "context": {"score": 3}}, "/context/score"),
        ({"respondent_id": "u", "id": 5}, "/id"),
    ]
    for body, pointer in cases:
        problem = assert_problem(
            client.post("/v1/displays", headers=ingest_headers, json=body), 422
        )
        assert pointer in [error["pointer"] for error in problem["errors"]], (body, problem)
    both = {"respondent_id": "u", "touchpoint": "a", "context": {"touchpoint": "b"}}
    assert_problem(client.post("/v1/displays", headers=ingest_headers, json=both), 422)


def test_scopes(
    client: TestClient, read_headers: dict[str, str], ingest_headers: dict[str, str]
) -> None:
    assert_problem(client.post("/v1/displays", json=display()), 401)
    assert_problem(client.post("/v1/displays", headers=read_headers, json=display()), 403)
    created = client.post("/v1/displays", headers=ingest_headers, json=display()).json()
    assert_problem(client.get(f"/v1/displays/{created['id']}", headers=ingest_headers), 403)
    assert_problem(client.get("/v1/eligibility?respondent_id=u", headers=read_headers), 403)
    assert_problem(client.get("/v1/contact-rules", headers=ingest_headers), 403)


def test_decline_sets_declined_at_once(client: TestClient, ingest_headers: dict[str, str]) -> None:
    created = client.post("/v1/displays", headers=ingest_headers, json=display()).json()
    before = datetime.now(UTC)
    first = client.post(f"/v1/displays/{created['id']}/decline", headers=ingest_headers)
    assert first.status_code == 200, first.text
    declined_at = datetime.fromisoformat(first.json()["declined_at"])
    assert before - timedelta(seconds=5) <= declined_at <= datetime.now(UTC) + timedelta(seconds=5)
    again = client.post(f"/v1/displays/{created['id']}/decline", headers=ingest_headers, json={})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert_problem(client.post(f"/v1/displays/{uuid.uuid4()}/decline", headers=ingest_headers), 404)


def test_a_past_decline_may_be_given_but_not_before_the_display(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    body = display(shown_at="2026-10-01T00:00:00Z")
    client.post("/v1/displays", headers=ingest_headers, json=body)
    early = {"declined_at": "2026-09-30T00:00:00Z"}
    url = f"/v1/displays/{body['id']}/decline"
    assert_problem(client.post(url, headers=ingest_headers, json=early), 422)
    late = client.post(
        url, headers=ingest_headers, json={"declined_at": "2026-10-02T08:00:00+08:00"}
    )
    assert late.status_code == 200
    assert late.json()["declined_at"] == "2026-10-02T00:00:00Z"
    assert_problem(client.post(url, headers=ingest_headers, json={"why": 1}), 422)


def test_an_answer_names_its_display(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    shown = client.post("/v1/displays", headers=ingest_headers, json=display()).json()
    body = answer(9, display_id=shown["id"])
    reply = client.post("/v1/responses", headers=ingest_headers, json=body)
    assert reply.status_code == 201, reply.text
    assert reply.json()["display_id"] == shown["id"]
    # A retry is 200 and links nothing twice.
    assert client.post("/v1/responses", headers=ingest_headers, json=body).status_code == 200
    linked = client.get(f"/v1/displays/{shown['id']}", headers=read_headers).json()
    assert linked["response_id"] == body["id"]
    fetched = client.get(f"/v1/responses/{body['id']}", headers=read_headers).json()
    assert fetched["display_id"] == shown["id"]
    # Another answer to the same display is 409, and is not stored.
    other = answer(3, display_id=shown["id"])
    assert_problem(client.post("/v1/responses", headers=ingest_headers, json=other), 409)
    assert client.get(f"/v1/responses/{other['id']}", headers=read_headers).status_code == 404
    # An answered display cannot be declined.
    assert_problem(client.post(f"/v1/displays/{shown['id']}/decline", headers=ingest_headers), 409)


def test_unknown_or_foreign_displays_are_422(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    unknown = answer(9, display_id=str(uuid.uuid4()))
    problem = assert_problem(
        client.post("/v1/responses", headers=ingest_headers, json=unknown), 422
    )
    assert problem["errors"][0]["pointer"] == "/display_id"
    theirs = client.post("/v1/displays", headers=ingest_headers, json=display("u_other")).json()
    foreign = answer(9, display_id=theirs["id"])
    assert_problem(client.post("/v1/responses", headers=ingest_headers, json=foreign), 422)
    for body in (unknown, foreign):
        assert client.get(f"/v1/responses/{body['id']}", headers=read_headers).status_code == 404


def test_a_batch_links_each_display_or_stores_nothing(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    shown = [
        client.post("/v1/displays", headers=ingest_headers, json=display()).json() for _ in range(2)
    ]
    good = [answer(9, display_id=shown[0]["id"]), answer(5, display_id=shown[1]["id"])]
    bad = [*good, answer(7, display_id=str(uuid.uuid4()))]
    problem = assert_problem(
        client.post("/v1/responses/batch", headers=ingest_headers, json={"responses": bad}), 422
    )
    assert [e["pointer"] for e in problem["errors"]] == ["/responses/2/display_id"]
    assert (
        client.get(f"/v1/displays/{shown[0]['id']}", headers=read_headers).json()["response_id"]
        is None
    )
    twice = [good[0], answer(1, display_id=shown[0]["id"])]
    assert_problem(
        client.post("/v1/responses/batch", headers=ingest_headers, json={"responses": twice}), 409
    )
    reply = client.post("/v1/responses/batch", headers=ingest_headers, json={"responses": good})
    assert reply.status_code == 201
    assert reply.json()["created"] == 2
    for item, body in zip(shown, good, strict=True):
        stored = client.get(f"/v1/displays/{item['id']}", headers=read_headers).json()
        assert stored["response_id"] == body["id"]


def test_contact_rules_default_replace_and_validate(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    defaults = client.get("/v1/contact-rules", headers=admin_headers).json()
    assert defaults == {
        "after_response_days": 90,
        "after_decline_days": 30,
        "after_display_days": 7,
        "sample_rate": 1.0,
        "across_touchpoints": True,
        "touchpoints": {},
    }
    new = {"after_response_days": 60, "touchpoints": {"app_home": {"sample_rate": 0.1}}}
    reply = client.put("/v1/contact-rules", headers=admin_headers, json=new)
    assert reply.status_code == 200, reply.text
    expected = {**defaults, **new, "touchpoints": {"app_home": {"sample_rate": 0.1}}}
    assert reply.json() == expected
    assert client.get("/v1/contact-rules", headers=admin_headers).json() == expected
    for bad in (
        {"sample_rate": 1.5},
        {"after_decline_days": -1},
        {"touchpoints": {"x": {"across_touchpoints": False}}},
        {"touchpoints": {"bad key": {}}},
        {"nonsense": True},
    ):
        assert_problem(client.put("/v1/contact-rules", headers=admin_headers, json=bad), 422)
    assert client.get("/v1/contact-rules", headers=admin_headers).json() == expected
