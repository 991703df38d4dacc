"""Merchant keys: every operation of openapi.yaml, called with a key limited to m_1,
shows m_1's data only (or is refused)."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.keys.service import Scope, create_key
from tests.helpers import answer, assert_problem, post_all

DOCUMENT = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
# The operations a merchant key may use; every other is 403.
ALLOWED = {
    "scores_get",
    "scores_trend",
    "scores_compare",
    "drivers_get",
    "scores_get_csv",
    "scores_trend_csv",
    "scores_compare_csv",
    "drivers_get_csv",
    "responses_list",
    "responses_get",
    "responses_export",
    "merchants_scorecard",
}
WEEK = "2026-11-02"


def merchant_key(settings: Settings, *merchants: str) -> dict[str, str]:
    engine = create_db_engine(settings)
    with make_session_factory(engine)() as session:
        _, plaintext = create_key(session, "shop", [Scope.READ], list(merchants))
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def planted(client: TestClient, admin_headers: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    by_merchant: dict[str, list[dict[str, Any]]] = {}
    for merchant, scores in (("m_1", [10, 9, 3, 8]), ("m_2", [0, 0, 10]), ("m_3", [7])):
        by_merchant[merchant] = [
            answer(
                s,
                respondent_id=f"{merchant}_{i}",
                dimensions={"logistics": s, "product": 10 - s, "service": s, "app": 5},
                context={"merchant_id": merchant, "category": "beauty"},
                submitted_at=f"2026-11-0{3 + i}T10:00:00Z",
            )
            for i, s in enumerate(scores)
        ]
    post_all(client, admin_headers, [a for items in by_merchant.values() for a in items])
    return by_merchant


def operations() -> list[tuple[str, str, str]]:
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append((method, path, operation["operationId"]))
    return found


def test_every_operation_is_limited(
    client: TestClient, settings: Settings, planted: dict[str, list[dict[str, Any]]]
) -> None:
    headers = merchant_key(settings, "m_1")
    mine = {a["id"] for a in planted["m_1"]}
    theirs = planted["m_2"][0]["id"]
    probe = {
        "response_id": theirs,
        "merchant_id": "m_2",
        "display_id": theirs,
        "webhook_id": theirs,
        "alert_id": theirs,
        "delivery_id": "msg_x",
        "respondent_id": "m_2_0",
    }
    for method, path, operation_id in operations():
        url = path.format(**probe)
        reply = client.request(method, url, headers=headers, json={} if method != "get" else None)
        if operation_id in ALLOWED:
            assert reply.status_code in (200, 403, 404, 422), (operation_id, reply.text)
            assert "m_2" not in reply.text or reply.status_code in (403, 404), operation_id
        elif path.startswith("/v1/"):
            assert reply.status_code == 403, (operation_id, reply.status_code, reply.text)
    # What the allowed operations show: m_1 only.
    overall = client.get("/v1/scores", headers=headers).json()["groups"][0]["overall"]
    assert overall["n"] == 4
    assert (overall["promoters"], overall["passives"], overall["detractors"]) == (2, 1, 1)
    grouped = client.get("/v1/scores", headers=headers, params={"group_by": "merchant_id"}).json()
    assert [g["key"]["merchant_id"] for g in grouped["groups"]] == ["m_1"]
    assert_problem(client.get("/v1/scores", headers=headers, params={"merchant_id": "m_2"}), 403)
    assert_problem(
        client.get("/v1/scores", headers=headers, params={"merchant_id": "m_1,m_2"}), 403
    )
    assert (
        client.get("/v1/scores", headers=headers, params={"merchant_id": "m_1"}).status_code == 200
    )
    listed = client.get("/v1/responses", headers=headers).json()["items"]
    assert {item["id"] for item in listed} == mine
    assert client.get(f"/v1/responses/{theirs}", headers=headers).status_code == 404
    exported = client.get("/v1/responses/export", headers=headers)
    assert {json.loads(line)["id"] for line in exported.text.splitlines()} == mine
    as_csv = client.get("/v1/responses/export", headers=headers, params={"format": "csv"}).text
    assert {row["id"] for row in csv.DictReader(io.StringIO(as_csv))} == mine
    trend = client.get(
        "/v1/scores/trend", headers=headers, params={"interval": "day", "group_by": "merchant_id"}
    ).json()
    assert [g["key"]["merchant_id"] for g in trend["groups"]] == ["m_1"]
    compare = client.get(
        "/v1/scores/compare",
        headers=headers,
        params={
            "from": "2026-11-01",
            "to": "2026-11-10",
            "baseline_from": "2026-10-01",
            "baseline_to": "2026-11-01",
            "group_by": "merchant_id",
        },
    ).json()
    assert [g["key"]["merchant_id"] for g in compare["groups"]] == ["m_1"]
    drivers = client.get("/v1/drivers", headers=headers).json()
    assert drivers["groups"][0]["n"] == 4
    card = client.get(
        "/v1/merchants/m_1/scorecard",
        headers=headers,
        params={"end": "2026-11-10", "window_days": 30},
    )
    assert card.status_code == 200, card.text
    assert card.json()["rank"]["of"] == 3  # ranked among every merchant of the category...
    assert "m_2" not in card.text  # ...without naming them
    assert_problem(client.get("/v1/merchants/m_2/scorecard", headers=headers), 403)
    assert_problem(client.get("/v1/merchants", headers=headers, params={"category": "beauty"}), 403)


def test_two_merchants_and_unlimited_keys(
    client: TestClient,
    settings: Settings,
    admin_headers: dict[str, str],
    read_headers: dict[str, str],
    planted: dict[str, list[dict[str, Any]]],
) -> None:
    both = merchant_key(settings, "m_1", "m_2")
    assert client.get("/v1/scores", headers=both).json()["groups"][0]["overall"]["n"] == 7
    assert client.get("/v1/scores", headers=read_headers).json()["groups"][0]["overall"]["n"] == 8
    engine = create_db_engine(settings)
    try:
        with (
            make_session_factory(engine)() as session,
            pytest.raises(ValueError, match="read scope"),
        ):
            create_key(session, "bad", [Scope.ADMIN], ["m_1"])
    finally:
        engine.dispose()
