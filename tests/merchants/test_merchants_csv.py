"""GET /v1/merchants.csv, and the same CSV from GET /v1/merchants: one row per merchant."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.keys.service import Scope, create_key
from tests.helpers import assert_problem, post_all
from tests.scores.csv_compare import as_records, bi_answers, check_twins, get_csv


def merchants(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["merchants"])


@pytest.mark.parametrize(
    "params",
    [
        {"category": "生鲜", "end": "2026-12-01", "window_days": "60"},
        {"category": "-x", "end": "2026-12-01", "sort": "-ci_low", "limit": "2"},
        {"category": "美妆", "end": "2026-12-01", "sort": "composite", "weighted": "true"},
        {"category": "美妆", "end": "2026-12-01", "min_n": "1000"},  # nobody qualifies
    ],
)
def test_merchants_csv_equals_the_json(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str]
) -> None:
    post_all(client, admin_headers, bi_answers())
    check_twins(client, admin_headers, "/v1/merchants", params, merchants)


def test_rows_are_ranked(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(client, admin_headers, bi_answers())
    params = {"category": "生鲜", "end": "2026-12-01", "sort": "-nps"}
    records = as_records(get_csv(client, "/v1/merchants.csv", admin_headers, params))
    assert [r["rank"] for r in records] == [str(i) for i in range(1, len(records) + 1)]
    assert len(records) == 4
    nps = [float(r["overall_nps"]) for r in records]
    assert nps == sorted(nps, reverse=True)


def test_scorecard_has_no_csv(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(client, admin_headers, bi_answers())
    params = {"end": "2026-12-01"}
    reply = client.get(
        "/v1/merchants/m_1/scorecard",
        headers={**admin_headers, "Accept": "text/csv"},
        params=params,
    )
    body = assert_problem(reply, 406)
    assert "application/json" in body["detail"]
    reply = client.get(
        "/v1/merchants/m_1/scorecard", headers=admin_headers, params={**params, "format": "csv"}
    )
    assert_problem(reply, 422)  # no such parameter there
    reply = client.get("/v1/merchants/m_1/scorecard", headers=admin_headers, params=params)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")


def test_merchant_keys_get_no_ranking_csv(
    client: TestClient, settings: Settings, admin_headers: dict[str, str]
) -> None:
    engine = create_db_engine(settings)
    with make_session_factory(engine)() as session:
        _, plaintext = create_key(session, "shop", [Scope.READ], ["m_1"])
        session.commit()
    engine.dispose()
    headers = {"Authorization": f"Bearer {plaintext}"}
    params = {"category": "生鲜"}
    assert_problem(client.get("/v1/merchants.csv", headers=headers, params=params), 403)
    reply = client.get("/v1/merchants", headers=headers, params={**params, "format": "csv"})
    assert_problem(reply, 403)
