"""GET /v1/drivers.csv, and the same CSV from GET /v1/drivers: one row per model."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, post_all
from tests.scores.csv_compare import as_records, bi_answers, check_twins, get_csv


def groups(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["groups"])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"group_by": "category", "weighted": "true"},
        {"interval": "week", "tz": "Asia/Shanghai", "from": "2026-11-04", "to": "2026-11-26"},
        {"group_by": "channel", "min_n": "40"},  # a suppressed model: empty cells
    ],
)
def test_drivers_csv_equals_the_json(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str]
) -> None:
    post_all(client, admin_headers, bi_answers())
    check_twins(client, admin_headers, "/v1/drivers", params, groups)


def test_priority_is_one_cell_of_names(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(client, admin_headers, bi_answers())
    body = client.get("/v1/drivers", headers=admin_headers).json()
    (record,) = as_records(get_csv(client, "/v1/drivers.csv", admin_headers))
    assert record["priority"].split(",") == body["groups"][0]["priority"]
    assert len(record["priority"].split(",")) == 4
    assert record["fitted"] == "true"
    assert record["reason"] == ""


def test_unfitted_model_says_why_in_a_cell(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(client, admin_headers, [answer(9, dimensions={"logistics": 3})])
    (record,) = as_records(get_csv(client, "/v1/drivers.csv", admin_headers))
    assert record["fitted"] == "false"
    assert record["reason"]
    assert record["r_squared"] == ""


def test_bom_and_bad_parameters(client: TestClient, admin_headers: dict[str, str]) -> None:
    content = get_csv(client, "/v1/drivers.csv", admin_headers, {"bom": "true"})
    assert content.startswith(b"\xef\xbb\xbf")
    assert_problem(client.get("/v1/drivers", headers=admin_headers, params={"bom": "true"}), 422)
    reply = client.get("/v1/drivers.csv", headers=admin_headers, params={"sort": "-nps"})
    assert_problem(reply, 422)
    reply = client.get("/v1/drivers.csv", headers=admin_headers, params={"format": "csv"})
    assert_problem(reply, 422)  # the .csv operation has no format
