"""Unknown query parameters are a 422 naming them, on every operation, by one mechanism."""

import re
import uuid
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.main import create_app
from nps_service.web.strict_query import UNKNOWN_DETAIL, install_strict_query
from tests.helpers import answer, assert_problem, post_all, stored_n
from tests.web.test_openapi import COMMITTED

BOGUS = "catgory"
UNKNOWN = {"parameter": BOGUS, "detail": UNKNOWN_DETAIL}


@pytest.fixture
def strict(client: TestClient) -> TestClient:
    """The app with the check installed (a no-op when create_app already did it)."""
    install_strict_query(client.app)  # type: ignore[arg-type]
    return client


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = yaml.safe_load(COMMITTED.read_text())
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _concrete(path: str) -> str:
    """A path with every `{param}` filled by a well-formed id."""
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method, path)
        for method, path, _ in _operations()
        if method == "get" and path.startswith("/v1/")
    ],
)
def test_every_get_operation_names_an_unknown_parameter(
    strict: TestClient, admin_headers: dict[str, str], method: str, path: str
) -> None:
    reply = strict.get(_concrete(path), headers=admin_headers, params={BOGUS: "beauty"})
    body = assert_problem(reply, 422)
    assert UNKNOWN in body["errors"], body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method, path)
        for method, path, _ in _operations()
        if method != "get" and path.startswith("/v1/")
    ],
)
def test_every_other_operation_names_it_too_and_does_nothing(
    strict: TestClient, admin_headers: dict[str, str], method: str, path: str
) -> None:
    body: Any = {"respondent_id": "u_1", "score": 9} if path == "/v1/responses" else {}
    reply = strict.request(
        method.upper(),
        _concrete(path),
        headers=admin_headers,
        params={BOGUS: "x"},
        json=body if method in ("post", "put", "patch") else None,
    )
    problem = assert_problem(reply, 422)
    assert UNKNOWN in problem["errors"], problem
    assert stored_n(strict, admin_headers) == 0


def test_the_issue_example_no_longer_widens_the_answer(
    strict: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(
        strict,
        admin_headers,
        [answer(10, context={"category": "beauty"}), answer(0, context={"category": "food"})],
    )
    assert_problem(strict.get("/v1/scores?catgory=beauty", headers=admin_headers), 422)
    reply = strict.get("/v1/scores?category=beauty", headers=admin_headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["groups"][0]["overall"]["n"] == 1


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/scores", [("property.campaign", "x"), ("category", "beauty")]),
        ("/v1/scores", [("property.campaign", "x"), ("property.campaign", "y")]),
        ("/v1/scores", [("group_by", "category"), ("format", "csv"), ("tz", "Asia/Shanghai")]),
        ("/v1/scores/trend", [("property.campaign", "x"), ("interval", "day")]),
        (
            "/v1/scores/compare",
            [
                ("property.campaign", "x"),
                ("baseline_from", "2025-01-01"),
                ("baseline_to", "2026-01-01"),
            ],
        ),
        ("/v1/drivers", [("property.campaign", "x")]),
        ("/v1/responses", [("property.campaign", "x"), ("limit", "5"), ("from", "2026-01-01")]),
        ("/v1/responses/export", [("property.campaign", "x"), ("format", "csv")]),
        ("/v1/eligibility", [("respondent_id", "u_1")]),
        ("/v1/merchants", [("category", "beauty")]),
        ("/v1/webhooks", [("limit", "10")]),
        ("/v1/alerts", [("limit", "10")]),
        ("/healthz", []),
        ("/widget/nps-survey.js", []),
    ],
)
def test_known_parameters_still_work(
    strict: TestClient, admin_headers: dict[str, str], path: str, params: list[tuple[str, str]]
) -> None:
    reply = strict.get(path, headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text


def test_property_filters_only_where_filters_take_them(
    strict: TestClient, admin_headers: dict[str, str]
) -> None:
    reply = strict.get(
        "/v1/merchants", headers=admin_headers, params={"category": "a", "property.x": "1"}
    )
    assert {"parameter": "property.x", "detail": UNKNOWN_DETAIL} in assert_problem(reply, 422)[
        "errors"
    ]


def test_one_answer_names_every_bad_parameter(
    strict: TestClient, admin_headers: dict[str, str]
) -> None:
    reply = strict.get(
        "/v1/scores",
        headers=admin_headers,
        params=[("tz", "Mars/Base"), (BOGUS, "a"), ("from_", "2026-01-01"), (BOGUS, "b")],
    )
    body = assert_problem(reply, 422)
    named = [error["parameter"] for error in body["errors"]]
    assert sorted(named) == sorted([BOGUS, "from_", "tz"]), body
    assert body["type"].endswith("/validation-error")


def test_a_request_without_a_key_is_still_401(strict: TestClient) -> None:
    assert_problem(strict.get("/v1/scores", params={BOGUS: "beauty"}), 401)


def test_the_single_answer_fast_path_leaves_query_strings_to_the_route(
    strict: TestClient, ingest_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    # The first answer makes the key known to the fast path.
    created = strict.post("/v1/responses", headers=ingest_headers, json=answer(9))
    assert created.status_code == 201, created.text
    reply = strict.post("/v1/responses?debug=1", headers=ingest_headers, json=answer(9))
    errors = assert_problem(reply, 422)["errors"]
    assert errors == [{"parameter": "debug", "detail": UNKNOWN_DETAIL}]
    assert stored_n(strict, admin_headers) == 1


def test_installing_changes_no_document_and_twice_is_once(settings: Settings) -> None:
    app = create_app(settings)
    before = app.openapi()
    app.openapi_schema = None
    install_strict_query(app)
    install_strict_query(app)
    assert app.openapi() == before
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        errors = assert_problem(client.get("/v1/scores?x=1&x=2"), 401)
        # Pages and scripts take cache-busting parameters; the API refuses unknown ones.
        assert client.get("/healthz?x=1").status_code == 200
        assert client.get("/widget/nps-survey.js?v=3").status_code == 200
        del errors
