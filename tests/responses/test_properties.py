"""`property.<key>=<value>` filters on scores, listings and exports."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.errors import QueryTooBroad
from nps_service.responses import filtering as properties
from nps_service.rollups.fold import fold_all
from tests.helpers import answer, assert_problem, post_all


def campaign_answers() -> list[dict[str, Any]]:
    answers = []
    for i in range(30):
        campaign: object = ["double11", "618", 11, True, None][i % 5]
        props = {} if campaign is None else {"campaign": campaign}
        answers.append(
            answer(
                [10, 9, 7, 3, 0][i % 4],
                submitted_at=f"2026-03-{1 + i % 3:02d}T10:00:00Z",
                context={"category": ["beauty", "food"][i % 2]},
                properties=props,
            )
        )
    return answers


def matching(answers: list[dict[str, Any]], *values: object) -> list[dict[str, Any]]:
    return [a for a in answers if a["properties"].get("campaign") in values]


def nps(answers: list[dict[str, Any]]) -> float:
    promoters = sum(a["score"] >= 9 for a in answers)
    detractors = sum(a["score"] <= 6 for a in answers)
    return 100 * (promoters - detractors) / len(answers)


def test_scores_filter_on_string_properties(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    answers = campaign_answers()
    post_all(client, admin_headers, answers)
    engine = create_db_engine(settings)
    fold_all(engine)  # rollups exist, but cannot answer a property filter
    engine.dispose()
    reply = client.get(
        "/v1/scores", headers=admin_headers, params={"property.campaign": "double11"}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["query"]["filters"] == {"property.campaign": ["double11"]}
    want = matching(answers, "double11")
    assert body["groups"][0]["overall"]["n"] == len(want)
    assert body["groups"][0]["overall"]["nps"] == pytest.approx(nps(want))
    # Several values; "11" and "true" are strings, so the number 11 and true never match.
    params = [("property.campaign", "double11"), ("property.campaign", "618")]
    params += [("property.campaign", "11"), ("property.campaign", "true")]
    params += [("group_by", "category"), ("interval", "day")]
    reply = client.get("/v1/scores", headers=admin_headers, params=params)
    want = matching(answers, "double11", "618")
    got = {
        (g["key"]["bucket"], g["key"]["category"]): g["overall"]["n"]
        for g in reply.json()["groups"]
    }
    expected: dict[tuple[str, str], int] = {}
    for a in want:
        key = (a["submitted_at"][:10], a["context"]["category"])
        expected[key] = expected.get(key, 0) + 1
    assert got == expected


def test_listing_and_export_filter_on_properties(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answers = campaign_answers()
    post_all(client, admin_headers, answers)
    params = {"property.campaign": "618", "category": "food"}
    want = {a["id"] for a in matching(answers, "618") if a["context"]["category"] == "food"}
    listed = client.get("/v1/responses", headers=admin_headers, params=params).json()["items"]
    assert {item["id"] for item in listed} == want
    exported = client.get("/v1/responses/export", headers=admin_headers, params=params).text
    assert {json.loads(line)["id"] for line in exported.splitlines()} == want


def test_the_declared_property_parameter_filters_alike(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """`property=<key>=<value>` (declared in the document) is `property.<key>=<value>`."""
    answers = campaign_answers()
    post_all(client, admin_headers, answers)
    params = [("property", "campaign=double11"), ("property", "campaign=618")]
    body = client.get("/v1/scores", headers=admin_headers, params=params).json()
    want = matching(answers, "double11", "618")
    assert body["query"]["filters"] == {"property.campaign": ["double11", "618"]}
    assert body["groups"][0]["overall"]["n"] == len(want)
    assert body["groups"][0]["overall"]["nps"] == pytest.approx(nps(want))
    listed = client.get("/v1/responses", headers=admin_headers, params=params).json()["items"]
    assert {item["id"] for item in listed} == {a["id"] for a in want}
    # A value holding `=` keeps it: only the first one separates key and value.
    reply = client.get("/v1/scores", headers=admin_headers, params={"property": "campaign=a=b"})
    assert reply.json()["query"]["filters"] == {"property.campaign": ["a=b"]}
    assert reply.json()["groups"][0]["overall"]["n"] == 0


@pytest.mark.parametrize(
    "params", [{"property": "campaign"}, {"property": "=x"}, {"property": "campaign="}]
)
def test_bad_declared_property_filters_are_named(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str]
) -> None:
    body = assert_problem(client.get("/v1/scores", headers=admin_headers, params=params), 422)
    assert [e["parameter"] for e in body["errors"]] == ["property"]


@pytest.mark.parametrize(
    "params",
    [{"property.": "x"}, {"property.cam paign": "x"}, {"property.campaign": ""}],
)
def test_bad_property_filters_are_named(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str]
) -> None:
    body = assert_problem(client.get("/v1/scores", headers=admin_headers, params=params), 422)
    assert [e["parameter"] for e in body["errors"]] == list(params)


def test_a_slow_property_query_is_refused_as_too_broad(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL stops the statement at the bound; SQLite (embedded) is not bounded."""
    engine = create_db_engine(settings)
    monkeypatch.setattr(properties, "STATEMENT_TIMEOUT_MS", 20)
    session = make_session_factory(engine)()
    if engine.dialect.name == "postgresql":
        with session, pytest.raises(QueryTooBroad), properties.bounded_time(session, True):
            session.execute(text("SELECT pg_sleep(1)"))
    else:
        with session, properties.bounded_time(session, True):
            assert session.scalar(text("SELECT 1")) == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/v1/scores", {"channel": "a\x00b"}, "channel"),
        ("/v1/responses", {"merchant_id": "\x00"}, "merchant_id"),
        ("/v1/responses/export", {"category": "x\x00"}, "category"),
        ("/v1/scores", {"property.campaign": "double\x0011"}, "property.campaign"),
        ("/v1/merchants", {"category": "beauty\x00"}, "category"),
        ("/v1/merchants/m%001/scorecard", {}, "merchant_id"),
    ],
)
def test_nul_characters_in_filters_are_rejected(
    client: TestClient,
    admin_headers: dict[str, str],
    path: str,
    params: dict[str, str],
    parameter: str,
) -> None:
    """Found by fuzzing: PostgreSQL refuses NUL even in a comparison (it was a 500)."""
    post_all(client, admin_headers, campaign_answers()[:3])
    body = assert_problem(client.get(path, headers=admin_headers, params=params), 422)
    assert parameter in [e.get("parameter") for e in body["errors"]]
