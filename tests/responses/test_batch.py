"""POST /v1/responses/batch: validated first, stored atomically, idempotent per id."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, stored_n

BATCH = "/v1/responses/batch"


def post_batch(client: TestClient, headers: dict[str, str], items: list[Any]) -> Any:
    return client.post(BATCH, headers=headers, json={"responses": items})


def summary(reply: Any) -> dict[str, Any]:
    """The body of a successful batch reply."""
    assert reply.status_code in (200, 201), reply.text
    body: dict[str, Any] = reply.json()
    assert set(body) >= {"created", "duplicates", "ids"}, body
    return body


def test_all_items_stored_with_ids_in_request_order(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [answer(score, comment=f"item {score}") for score in (10, 0, 7, 9, 3)]
    reply = post_batch(client, admin_headers, items)
    assert reply.status_code == 201, reply.text
    assert reply.json() == {"created": 5, "duplicates": 0, "ids": [i["id"] for i in items]}
    for item in items:
        stored = client.get(f"/v1/responses/{item['id']}", headers=admin_headers).json()
        assert (stored["score"], stored["comment"]) == (item["score"], item["comment"])
    assert stored_n(client, admin_headers) == 5
    # 2 promoters (10, 9), 1 passive (7), 2 detractors (0, 3): 100 * (2 - 2) / 5
    (group,) = client.get("/v1/scores", headers=admin_headers).json()["groups"]
    assert group["overall"]["nps"] == 0.0


def test_items_without_id_get_server_ids_in_their_positions(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    with_id = answer(8)
    anonymous = {"respondent_id": "u_2", "score": 4}
    # The same anonymous answer twice: without ids the server cannot tell them apart.
    items = [anonymous, with_id, anonymous]
    body = summary(post_batch(client, admin_headers, items))
    assert body["created"] == 3
    assert body["duplicates"] == 0
    ids = body["ids"]
    assert len(ids) == 3
    assert ids[1] == with_id["id"]
    assert len({uuid.UUID(i) for i in ids}) == 3
    for position in (0, 2):
        stored = client.get(f"/v1/responses/{ids[position]}", headers=admin_headers)
        assert stored.status_code == 200, stored.text
        assert stored.json()["respondent_id"] == "u_2"
    assert stored_n(client, admin_headers) == 3


def test_one_thousand_items_are_accepted(client: TestClient, admin_headers: dict[str, str]) -> None:
    items = [answer(i % 11) for i in range(1000)]
    body = summary(post_batch(client, admin_headers, items))
    assert (body["created"], body["duplicates"]) == (1000, 0)
    assert body["ids"] == [i["id"] for i in items]
    assert stored_n(client, admin_headers) == 1000


@pytest.mark.parametrize(
    ("bad_items", "pointers"),
    [
        ({1: {"score": 11}}, {"/responses/1/score"}),
        (
            {0: {"score": "9"}, 3: {"respondent_id": ""}},
            {"/responses/0/score", "/responses/3/respondent_id"},
        ),
        ({4: {"dimensions": {"app": -1}}}, {"/responses/4/dimensions/app"}),
        (
            {2: {"context": {"merchant_id": "m 42"}}, 4: {"unknown": 1}},
            {"/responses/2/context/merchant_id", "/responses/4/unknown"},
        ),
        ({2: {"id": "not-a-uuid"}}, {"/responses/2/id"}),
    ],
    ids=["score", "two-items", "dimension", "context-and-unknown", "id"],
)
def test_one_invalid_item_rejects_the_whole_batch(
    client: TestClient,
    admin_headers: dict[str, str],
    bad_items: dict[int, dict[str, Any]],
    pointers: set[str],
) -> None:
    items = [answer(9) for _ in range(5)]
    for index, fields in bad_items.items():
        items[index].update(fields)
    reply = post_batch(client, admin_headers, items)
    problem = assert_problem(reply, 422)
    assert {e.get("pointer") for e in problem["errors"]} == pointers, problem["errors"]
    assert stored_n(client, admin_headers) == 0
    for item in items:
        if isinstance(item.get("id"), str) and item["id"] != "not-a-uuid":
            missing = client.get(f"/v1/responses/{item['id']}", headers=admin_headers)
            assert missing.status_code == 404


def test_missing_required_field_in_item_is_named_by_index(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [answer(9), {"id": str(uuid.uuid4()), "score": 5}, answer(1)]
    problem = assert_problem(post_batch(client, admin_headers, items), 422)
    assert {e.get("pointer") for e in problem["errors"]} == {"/responses/1/respondent_id"}
    assert stored_n(client, admin_headers) == 0


@pytest.mark.parametrize("count", [0, 1001])
def test_batch_size_out_of_range_is_422(
    client: TestClient, admin_headers: dict[str, str], count: int
) -> None:
    items = [{"respondent_id": "u", "score": 9} for _ in range(count)]
    problem = assert_problem(post_batch(client, admin_headers, items), 422)
    assert {e.get("pointer") for e in problem["errors"]} == {"/responses"}
    assert stored_n(client, admin_headers) == 0


@pytest.mark.parametrize(
    "payload",
    [{}, {"responses": {"a": 1}}, {"responses": [answer(9)], "extra": True}, [answer(9)]],
    ids=["no-responses", "responses-object", "unknown-field", "bare-list"],
)
def test_malformed_batch_envelope_is_422(
    client: TestClient, admin_headers: dict[str, str], payload: Any
) -> None:
    problem = assert_problem(client.post(BATCH, headers=admin_headers, json=payload), 422)
    assert problem["errors"]
    assert stored_n(client, admin_headers) == 0


def test_duplicates_within_batch_and_against_stored_rows_are_stored_once(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    a, b, c = answer(10), answer(6), answer(2)
    first = client.post("/v1/responses", headers=admin_headers, json=a)
    assert first.status_code == 201, first.text
    items = [b, a, b, c, a, b]
    reply = post_batch(client, admin_headers, items)
    body = summary(reply)
    # New: b and c. Duplicates: a twice (stored before), b twice more (repeated in batch).
    assert body == {"created": 2, "duplicates": 4, "ids": [i["id"] for i in items]}
    assert reply.status_code == 201
    assert stored_n(client, admin_headers) == 3
    # The earlier stored answer is untouched.
    again = client.get(f"/v1/responses/{a['id']}", headers=admin_headers)
    assert again.json() == first.json()


def test_duplicate_omitting_submitted_at_is_the_same_answer(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    timed = answer(9, submitted_at="2025-11-20T10:00:00+08:00")
    untimed = {k: v for k, v in timed.items() if k != "submitted_at"}
    body = summary(post_batch(client, admin_headers, [timed, untimed]))
    assert (body["created"], body["duplicates"]) == (1, 1)
    stored = client.get(f"/v1/responses/{timed['id']}", headers=admin_headers).json()
    assert stored["submitted_at"] == "2025-11-20T02:00:00Z"
    assert stored_n(client, admin_headers) == 1


def test_reposting_the_same_batch_creates_nothing(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [answer(score) for score in range(11)]
    first = summary(post_batch(client, admin_headers, items))
    assert (first["created"], first["duplicates"]) == (11, 0)
    for _ in range(2):
        again = summary(post_batch(client, admin_headers, items))
        assert again == {"created": 0, "duplicates": 11, "ids": [i["id"] for i in items]}
    assert stored_n(client, admin_headers) == 11


def test_id_reused_against_stored_row_with_different_content_is_409(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    stored = answer(9, comment="first")
    first = client.post("/v1/responses", headers=admin_headers, json=stored)
    assert first.status_code == 201, first.text
    fresh = [answer(3), answer(7)]
    items = [fresh[0], {**stored, "comment": "second"}, fresh[1]]
    assert_problem(post_batch(client, admin_headers, items), 409)
    # Nothing from the batch is stored, and the earlier row is unchanged.
    for item in fresh:
        assert client.get(f"/v1/responses/{item['id']}", headers=admin_headers).status_code == 404
    assert client.get(f"/v1/responses/{stored['id']}", headers=admin_headers).json() == first.json()
    assert stored_n(client, admin_headers) == 1


def test_id_reused_within_batch_with_different_content_is_409(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    a, other = answer(9), answer(5)
    items = [other, a, {**a, "score": 8}]
    assert_problem(post_batch(client, admin_headers, items), 409)
    for item in (a, other):
        assert client.get(f"/v1/responses/{item['id']}", headers=admin_headers).status_code == 404
    assert stored_n(client, admin_headers) == 0


def test_within_batch_property_type_change_is_409(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    a = answer(9, properties={"n": 1})
    items = [a, {**a, "properties": {"n": "1"}}]
    assert_problem(post_batch(client, admin_headers, items), 409)
    assert stored_n(client, admin_headers) == 0


def test_batch_ids_are_shared_with_single_posts(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    items = [answer(10), answer(4)]
    summary(post_batch(client, admin_headers, items))
    retry = client.post("/v1/responses", headers=admin_headers, json=items[1])
    assert retry.status_code == 200, retry.text
    conflict = client.post("/v1/responses", headers=admin_headers, json={**items[0], "score": 0})
    assert_problem(conflict, 409)
    assert stored_n(client, admin_headers) == 2
