"""POST /v1/responses rejects malformed bodies with problem+json naming the failing field.

Every rejected body must leave the database untouched, and every error must carry a JSON
pointer into the body that was sent (RFC 6901), e.g. "/score" or "/properties/x".
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import assert_problem, stored_n

SUBMITTED = "2025-11-20T10:00:00+08:00"


def body(**fields: Any) -> dict[str, Any]:
    """A valid body with a fresh id; keyword arguments override or add fields."""
    result: dict[str, Any] = {"id": str(uuid.uuid4()), "respondent_id": "u_1", "score": 9}
    result.update(fields)
    return result


def without(*names: str) -> dict[str, Any]:
    return {k: v for k, v in body().items() if k not in names}


def in_minutes(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


@dataclass(frozen=True)
class Bad:
    """A malformed request: the JSON body to send (built at test time) or raw bytes."""

    name: str
    make: Callable[[], Any] | bytes
    pointers: frozenset[str]
    statuses: frozenset[int] = frozenset({422})


def bad(
    name: str, make: Callable[[], Any] | bytes, *pointers: str, statuses: tuple[int, ...] = (422,)
) -> Bad:
    return Bad(name, make, frozenset(pointers), frozenset(statuses))


LONG_KEY = "k" * 65

MALFORMED = [
    # required fields
    bad("missing-respondent_id", lambda: without("respondent_id"), "/respondent_id"),
    bad("missing-score", lambda: without("score"), "/score"),
    bad("missing-both", lambda: without("respondent_id", "score"), "/respondent_id", "/score"),
    # score
    bad("score-9.5", lambda: body(score=9.5), "/score"),
    bad("score-string", lambda: body(score="9"), "/score"),
    bad("score-true", lambda: body(score=True), "/score"),
    bad("score-negative", lambda: body(score=-1), "/score"),
    bad("score-11", lambda: body(score=11), "/score"),
    bad("score-null", lambda: body(score=None), "/score"),
    bad("score-list", lambda: body(score=[9]), "/score"),
    # respondent_id
    bad("respondent_id-empty", lambda: body(respondent_id=""), "/respondent_id"),
    bad("respondent_id-129", lambda: body(respondent_id="r" * 129), "/respondent_id"),
    bad("respondent_id-number", lambda: body(respondent_id=123), "/respondent_id"),
    bad("respondent_id-null", lambda: body(respondent_id=None), "/respondent_id"),
    # dimensions
    bad("dimension-11", lambda: body(dimensions={"app": 11}), "/dimensions/app"),
    bad("dimension-negative", lambda: body(dimensions={"service": -1}), "/dimensions/service"),
    bad("dimension-string", lambda: body(dimensions={"app": "8"}), "/dimensions/app"),
    bad("dimension-float", lambda: body(dimensions={"product": 8.5}), "/dimensions/product"),
    bad("dimension-unknown", lambda: body(dimensions={"price": 8}), "/dimensions/price"),
    bad("dimensions-list", lambda: body(dimensions=[8, 9]), "/dimensions"),
    # context
    bad("context-space", lambda: body(context={"merchant_id": "m 42"}), "/context/merchant_id"),
    bad("context-65", lambda: body(context={"category": "c" * 65}), "/context/category"),
    bad("context-empty", lambda: body(context={"channel": ""}), "/context/channel"),
    bad("context-newline", lambda: body(context={"region": "CN-BJ\n"}), "/context/region"),
    bad("context-number", lambda: body(context={"merchant_id": 42}), "/context/merchant_id"),
    bad("context-unknown", lambda: body(context={"city": "beijing"}), "/context/city"),
    # comment
    bad("comment-2001", lambda: body(comment="c" * 2001), "/comment"),
    bad("comment-nul", lambda: body(comment="late\u0000parcel"), "/comment"),
    bad("comment-number", lambda: body(comment=5), "/comment"),
    # properties
    bad("properties-33", lambda: body(properties={f"k{i}": i for i in range(33)}), "/properties"),
    bad("property-key-65", lambda: body(properties={LONG_KEY: 1}), f"/properties/{LONG_KEY}"),
    bad("property-key-empty", lambda: body(properties={"": 1}), "/properties/"),
    bad("property-nested", lambda: body(properties={"x": {"a": 1}}), "/properties/x"),
    bad("property-list", lambda: body(properties={"x": [1, 2]}), "/properties/x"),
    bad("property-null", lambda: body(properties={"x": None}), "/properties/x"),
    bad("property-257", lambda: body(properties={"x": "v" * 257}), "/properties/x"),
    bad("properties-list", lambda: body(properties=["x"]), "/properties"),
    # weight
    bad("weight-0", lambda: body(weight=0), "/weight"),
    bad("weight-negative", lambda: body(weight=-1), "/weight"),
    bad("weight-string", lambda: body(weight="1"), "/weight"),
    bad("weight-true", lambda: body(weight=True), "/weight"),
    bad("weight-nan", b'{"respondent_id":"a","score":9,"weight":NaN}', "/weight"),
    bad("weight-infinity", b'{"respondent_id":"a","score":9,"weight":Infinity}', "/weight"),
    bad("weight-minus-infinity", b'{"respondent_id":"a","score":9,"weight":-Infinity}', "/weight"),
    # submitted_at
    bad("submitted_at-naive", lambda: body(submitted_at="2025-11-20T10:00:00"), "/submitted_at"),
    bad("submitted_at-not-a-date", lambda: body(submitted_at="yesterday"), "/submitted_at"),
    bad("submitted_at-10min-future", lambda: body(submitted_at=in_minutes(10)), "/submitted_at"),
    bad("submitted_at-number", lambda: body(submitted_at=1763604000), "/submitted_at"),
    # id, unknown fields
    bad("id-not-uuid", lambda: body(id="not-a-uuid"), "/id"),
    bad("id-number", lambda: body(id=12345), "/id"),
    bad("unknown-field", lambda: body(nps=50), "/nps"),
    # not an object at all
    bad("body-array", lambda: [body()], ""),
    bad("body-string", lambda: "score=9", ""),
    bad("body-number", lambda: 9, ""),
    bad("body-null", b"null", ""),
    # An empty body is not JSON (400) or a missing body (422); either names the document.
    bad("body-empty", b"", "", statuses=(400, 422)),
    bad("malformed-json", b'{"respondent_id": "a", "score": 9,', "", statuses=(400,)),
    bad("malformed-json-quote", b"{'respondent_id': 'a', 'score': 9}", "", statuses=(400,)),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[case.name for case in MALFORMED])
def test_malformed_body_is_rejected_and_nothing_stored(
    client: TestClient, admin_headers: dict[str, str], case: Bad
) -> None:
    if isinstance(case.make, bytes):
        reply = client.post(
            "/v1/responses",
            content=case.make,
            headers={**admin_headers, "Content-Type": "application/json"},
        )
    else:
        reply = client.post("/v1/responses", json=case.make(), headers=admin_headers)
    assert reply.status_code in case.statuses, reply.text
    problem = assert_problem(reply, reply.status_code)
    errors = problem["errors"]
    assert errors, problem
    assert all(error["detail"] for error in errors), errors
    # Every error points at one of the failing fields, and each failing field is named.
    assert {error.get("pointer") for error in errors} == case.pointers, errors
    assert stored_n(client, admin_headers) == 0


ACCEPTED = [
    ("score-0", lambda: body(score=0)),
    ("score-10", lambda: body(score=10)),
    ("dimensions-0-and-10", lambda: body(dimensions={"logistics": 0, "product": 10})),
    ("respondent_id-128", lambda: body(respondent_id="r" * 128)),
    ("comment-2000", lambda: body(comment="c" * 2000)),
    ("comment-unicode", lambda: body(comment="包裹晚到了一天 📦")),
    ("properties-32", lambda: body(properties={f"k{i}": i for i in range(32)})),
    ("property-key-64-value-256", lambda: body(properties={"k" * 64: "v" * 256})),
    ("property-mixed-values", lambda: body(properties={"s": "x", "b": False, "i": -3, "f": 0.5})),
    ("context-unicode", lambda: body(context={"category": "美妆", "region": "Zürich"})),
    ("context-punctuation", lambda: body(context={"merchant_id": "m_42-a.b:c/d"})),
    ("context-64", lambda: body(context={"order_id": "o" * 64})),
    ("weight-small", lambda: body(weight=0.001)),
    ("weight-int", lambda: body(weight=3)),
    ("submitted_at-4min-future", lambda: body(submitted_at=in_minutes(4))),
    ("submitted_at-offset", lambda: body(submitted_at=SUBMITTED)),
    ("submitted_at-z", lambda: body(submitted_at="2025-11-20T02:00:00Z")),
]


@pytest.mark.parametrize("make", [m for _, m in ACCEPTED], ids=[name for name, _ in ACCEPTED])
def test_edge_values_are_accepted_and_stored_as_sent(
    client: TestClient, admin_headers: dict[str, str], make: Callable[[], Any]
) -> None:
    sent = make()
    reply = client.post("/v1/responses", json=sent, headers=admin_headers)
    assert reply.status_code == 201, reply.text
    stored = client.get(f"/v1/responses/{sent['id']}", headers=admin_headers).json()
    for field in ("respondent_id", "score", "comment"):
        if field in sent:
            assert stored[field] == sent[field], field
    for group in ("dimensions", "context"):
        for name, value in sent.get(group, {}).items():
            assert stored[group][name] == value, (group, name)
    if "properties" in sent:
        assert stored["properties"] == sent["properties"]
    if "weight" in sent:
        assert stored["weight"] == sent["weight"]
    if "submitted_at" in sent:
        assert datetime.fromisoformat(
            stored["submitted_at"].replace("Z", "+00:00")
        ) == datetime.fromisoformat(sent["submitted_at"].replace("Z", "+00:00"))
    assert stored_n(client, admin_headers) == 1
