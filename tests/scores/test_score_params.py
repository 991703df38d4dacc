"""GET /v1/scores parameter validation: every bad parameter is a 422 that names it."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, post_all

Params = list[tuple[str, str]]


def named(body: dict[str, Any]) -> set[str]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    for error in errors:
        assert error.get("detail"), error  # each says why
    return {error.get("parameter") for error in errors}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ([("interval", "hour")], "interval"),
        ([("tz", "Mars/Base")], "tz"),
        ([("tz", "../etc")], "tz"),
        ([("tz", "/etc/localtime")], "tz"),
        ([("tz", "Europe/../../etc/passwd")], "tz"),
        ([("group_by", "colour")], "group_by"),
        ([("group_by", "order_id")], "group_by"),
        ([("group_by", "merchant_id,colour")], "group_by"),
        ([("group_by", "merchant_id"), ("group_by", "respondent_id")], "group_by"),
        ([("sort", "banana")], "sort"),
        ([("sort", "--nps")], "sort"),
        ([("sort", "nps-")], "sort"),
        ([("confidence", "0.3")], "confidence"),
        ([("confidence", "1.0")], "confidence"),
        ([("confidence", "1")], "confidence"),
        ([("confidence", "abc")], "confidence"),
        ([("confidence", "nan")], "confidence"),
        ([("min_n", "-1")], "min_n"),
        ([("min_n", "two")], "min_n"),
        ([("from", "yesterday")], "from"),
        ([("to", "2026-13-01")], "to"),
        ([("to", "2026-02-30")], "to"),
        ([("from", "2026-11-20T25:00:00Z")], "from"),
        ([("limit", "0")], "limit"),
        ([("limit", "-3")], "limit"),
        ([("weighted", "maybe")], "weighted"),
        ([("format", "xml")], "format"),
    ],
)
def test_bad_parameter_is_named(
    client: TestClient, admin_headers: dict[str, str], params: Params, parameter: str
) -> None:
    reply = client.get("/v1/scores", headers=admin_headers, params=params)
    body = assert_problem(reply, 422)
    assert parameter in named(body), body


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("2026-11-21", "2026-11-20"),
        ("2026-11-20T10:00:00Z", "2026-11-20T09:59:59Z"),
        ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z"),  # empty half-open range
        ("2026-11-20T10:00:00Z", "2026-11-20T17:00:00+08:00"),  # 09:00Z, written differently
    ],
)
def test_from_after_to(
    client: TestClient, admin_headers: dict[str, str], low: str, high: str
) -> None:
    reply = client.get("/v1/scores", headers=admin_headers, params=[("from", low), ("to", high)])
    body = assert_problem(reply, 422)
    assert named(body) & {"from", "to"}, body


@pytest.mark.parametrize(
    "params",
    [
        # score options only
        [
            ("interval", "hour"),
            ("group_by", "colour"),
            ("sort", "banana"),
            ("confidence", "0.3"),
            ("min_n", "-1"),
        ],
        # time range and zone only
        [("tz", "Mars/Base"), ("from", "yesterday"), ("to", "2026-13-01")],
        # both kinds in one request: the client should learn about all of them at once
        [
            ("interval", "hour"),
            ("tz", "Mars/Base"),
            ("group_by", "colour"),
            ("sort", "banana"),
            ("confidence", "0.3"),
            ("min_n", "-1"),
            ("from", "yesterday"),
        ],
        # a type error (limit) beside a value error (tz)
        [("limit", "0"), ("tz", "Mars/Base")],
    ],
    ids=["score-options", "range-and-zone", "mixed", "type-and-value"],
)
def test_every_bad_parameter_is_named_at_once(
    client: TestClient, admin_headers: dict[str, str], params: Params
) -> None:
    reply = client.get("/v1/scores", headers=admin_headers, params=params)
    body = assert_problem(reply, 422)
    assert {name for name, _ in params} <= named(body), body


def test_a_reversed_range_is_named_beside_other_errors(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    params = [("from", "2026-11-21"), ("to", "2026-11-20"), ("sort", "banana"), ("limit", "0")]
    body = assert_problem(client.get("/v1/scores", headers=admin_headers, params=params), 422)
    assert named(body) == {"to", "sort", "limit"}, body


def test_no_stack_trace_in_problem(client: TestClient, admin_headers: dict[str, str]) -> None:
    reply = client.get("/v1/scores", headers=admin_headers, params={"tz": "../../etc/passwd"})
    body = assert_problem(reply, 422)
    assert "Traceback" not in reply.text
    assert "tz" in named(body)


def test_errors_stay_problem_json_when_csv_is_asked_for(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for headers, params in [
        ({**admin_headers, "Accept": "text/csv"}, [("sort", "banana")]),
        (admin_headers, [("sort", "banana"), ("format", "csv")]),
    ]:
        reply = client.get("/v1/scores", headers=headers, params=params)
        body = assert_problem(reply, 422)
        assert "sort" in named(body)


@pytest.mark.parametrize(
    "params",
    [
        [("confidence", "0.5")],
        [("confidence", "0.999")],
        [("min_n", "1")],
        [("limit", "1")],
        [("sort", "-ci_low")],
        [("tz", "America/Argentina/Buenos_Aires")],
        [("interval", "month"), ("group_by", "touchpoint")],
        [("weighted", "false")],
    ],
)
def test_boundary_values_are_accepted(
    client: TestClient, admin_headers: dict[str, str], params: Params
) -> None:
    reply = client.get("/v1/scores", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text


def test_unencoded_plus_in_from_and_to(client: TestClient, admin_headers: dict[str, str]) -> None:
    instants = [
        "2026-11-20T01:59:59Z",
        "2026-11-20T02:00:00Z",  # from is 02:00Z
        "2026-11-20T03:29:59Z",
        "2026-11-20T03:30:00Z",
    ]  # to is 03:30Z
    post_all(client, admin_headers, [answer(10, submitted_at=i) for i in instants])
    # Sent raw: '+' in a query string decodes to a space on the server.
    reply = client.get(
        "/v1/scores?from=2026-11-20T10:00:00+08:00&to=2026-11-20T09:00:00+05:30",
        headers=admin_headers,
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert datetime.fromisoformat(body["query"]["from"]) == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert datetime.fromisoformat(body["query"]["to"]) == datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
    assert body["groups"][0]["overall"]["n"] == 2
    # The encoded form means the same.
    encoded = client.get(
        "/v1/scores",
        headers=admin_headers,
        params={"from": "2026-11-20T10:00:00+08:00", "to": "2026-11-20T09:00:00+05:30"},
    )
    assert encoded.status_code == 200, encoded.text
    assert encoded.json()["query"] == body["query"]
    assert encoded.json()["groups"] == body["groups"]
    # Only from, unencoded: everything from 02:00Z on.
    only_from = client.get("/v1/scores?from=2026-11-20T10:00:00+08:00", headers=admin_headers)
    assert only_from.status_code == 200, only_from.text
    assert only_from.json()["groups"][0]["overall"]["n"] == 3
