"""GET /v1/scores as CSV: the same groups as the JSON body, one flat row each."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, post_all

METRICS = ("overall", "logistics", "product", "service", "app")
FIELDS = (
    "n",
    "nps",
    "ci_low",
    "ci_high",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "effective_n",
    "suppressed",
)
METRIC_COLUMNS = [f"{metric}_{field}" for metric in METRICS for field in FIELDS]
DISPLAY_FIELDS = ("shown", "answered", "declined", "response_rate")
DISPLAY_COLUMNS = [f"displays_{field}" for field in DISPLAY_FIELDS]
INTEGER_FIELDS = ("n", "promoters", "passives", "detractors")
Params = list[tuple[str, str]]


def dataset(seed: int = 11, count: int = 120) -> list[dict[str, Any]]:
    """Weighted answers over a few days, with missing tags and missing dimensions.

    Nobody rates `app` for merchant m_3, so that group has an n = 0 metric (null cells).
    """
    rng = random.Random(seed)
    start = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
    out = []
    for i in range(count):
        merchant = ["m_1", "m_2", "m_3", None][i % 4]
        dimensions = {
            d: rng.randint(0, 10) for d in ("logistics", "product", "service") if rng.random() < 0.7
        }
        if merchant != "m_3" and rng.random() < 0.5:
            dimensions["app"] = rng.randint(0, 10)
        fields: dict[str, Any] = {
            "submitted_at": (start + timedelta(minutes=97 * i)).isoformat(),
            "weight": rng.choice([0.5, 1, 2.5]),
            "dimensions": dimensions,
        }
        if merchant:
            fields["context"] = {"merchant_id": merchant, "category": rng.choice(["a", "b"])}
        out.append(answer(rng.randint(0, 10), **fields))
    return out


def get_json(client: TestClient, headers: dict[str, str], params: Params) -> dict[str, Any]:
    reply = client.get("/v1/scores", headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = reply.json()
    return body


def get_csv(
    client: TestClient, headers: dict[str, str], params: Params, accept: str | None = None
) -> list[list[str]]:
    request_headers = dict(headers)
    if accept is not None:
        request_headers["Accept"] = accept
    reply = client.get("/v1/scores", headers=request_headers, params=params)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/csv"), reply.headers
    rows = list(csv.reader(io.StringIO(reply.text, newline="")))
    assert rows, "no header row"
    return rows


def metric_of(group: dict[str, Any], metric: str) -> dict[str, Any]:
    if metric == "overall":
        return dict(group["overall"])
    return dict(group["dimensions"][metric])


def cell_value(cell: str, field: str) -> Any:
    """Parse one CSV cell back into what the JSON body holds."""
    if cell == "":
        return None
    if field == "suppressed":
        assert cell.lower() in ("true", "false"), cell
        return cell.lower() == "true"
    if field in INTEGER_FIELDS:
        return int(cell)
    return float(cell)


def assert_same_as_json(
    rows: list[list[str]], body: dict[str, Any], key_columns: list[str]
) -> None:
    header, *data = rows
    assert header == [*key_columns, *METRIC_COLUMNS, *DISPLAY_COLUMNS]
    assert len(data) == len(body["groups"])
    for row, group in zip(data, body["groups"], strict=True):
        assert len(row) == len(header)
        cells = dict(zip(header, row, strict=True))
        for column in key_columns:
            if column == "partial":  # on the group, beside the key
                assert cells[column] == ("true" if group["partial"] else "false")
                continue
            expected_key = group["key"][column]
            assert cells[column] == ("" if expected_key is None else expected_key), column
        for metric in METRICS:
            values = metric_of(group, metric)
            for field in FIELDS:
                column = f"{metric}_{field}"
                expected = values[field]
                actual = cell_value(cells[column], field)
                if expected is None:
                    assert cells[column] == "", (column, cells[column])
                else:
                    assert actual == expected, (group["key"], column, actual, expected)
        for field in DISPLAY_FIELDS:
            expected = group["displays"][field]
            cell = cells[f"displays_{field}"]
            if expected is None:
                assert cell == "", (field, cell)
            else:
                assert (float(cell) if field == "response_rate" else int(cell)) == expected


@pytest.mark.parametrize(
    ("params", "key_columns"),
    [
        ([], []),
        ([("group_by", "merchant_id")], ["merchant_id"]),
        ([("group_by", "merchant_id,category")], ["merchant_id", "category"]),
        ([("interval", "day"), ("tz", "Asia/Kolkata")], ["bucket", "bucket_start", "partial"]),
        (
            [("interval", "week"), ("group_by", "merchant_id")],
            ["bucket", "bucket_start", "partial", "merchant_id"],
        ),
        (
            [("group_by", "merchant_id"), ("weighted", "true"), ("confidence", "0.9")],
            ["merchant_id"],
        ),
        ([("group_by", "merchant_id"), ("min_n", "31")], ["merchant_id"]),
        ([("group_by", "merchant_id"), ("sort", "-nps"), ("limit", "2")], ["merchant_id"]),
    ],
)
def test_format_csv_matches_json(
    client: TestClient, admin_headers: dict[str, str], params: Params, key_columns: list[str]
) -> None:
    post_all(client, admin_headers, dataset())
    body = get_json(client, admin_headers, params)
    rows = get_csv(client, admin_headers, [*params, ("format", "csv")])
    assert rows[0][: len(key_columns) + 3] == [
        *key_columns,
        "overall_n",
        "overall_nps",
        "overall_ci_low",
    ]
    assert_same_as_json(rows, body, key_columns)


@pytest.mark.parametrize("accept", ["text/csv", "text/csv; charset=utf-8"])
def test_accept_header_selects_csv(
    client: TestClient, admin_headers: dict[str, str], accept: str
) -> None:
    post_all(client, admin_headers, dataset(seed=12, count=60))
    params = [("group_by", "merchant_id"), ("weighted", "true")]
    body = get_json(client, admin_headers, params)
    rows = get_csv(client, admin_headers, params, accept=accept)
    assert_same_as_json(rows, body, ["merchant_id"])


def test_format_csv_wins_over_accept_json(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(client, admin_headers, dataset(seed=13, count=20))
    body = get_json(client, admin_headers, [])
    rows = get_csv(client, admin_headers, [("format", "csv")], accept="application/json")
    assert_same_as_json(rows, body, [])


def test_csv_has_the_edge_cases_the_dataset_was_built_for(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """Null keys, n = 0 metrics and suppressed groups all reach the CSV."""
    post_all(client, admin_headers, dataset())
    params = [("group_by", "merchant_id"), ("min_n", "31"), ("format", "csv")]
    header, *data = get_csv(client, admin_headers, params)
    rows = [dict(zip(header, row, strict=True)) for row in data]
    by_merchant = {row["merchant_id"]: row for row in rows}
    assert set(by_merchant) == {"m_1", "m_2", "m_3", ""}  # the null merchant is an empty cell
    m_3 = by_merchant["m_3"]
    assert m_3["app_n"] == "0"
    assert m_3["app_nps"] == m_3["app_ci_low"] == m_3["app_ci_high"] == ""
    # 120 answers, 30 per merchant: every group is below min_n = 31, yet counts are exact.
    for row in rows:
        assert row["overall_n"] == "30"
        assert row["overall_suppressed"].lower() == "true"
        assert row["overall_nps"] == ""
        promoters, passives, detractors = (
            int(row[f"overall_{c}"]) for c in ("promoters", "passives", "detractors")
        )
        assert promoters + passives + detractors == 30


def test_empty_global_csv(client: TestClient, admin_headers: dict[str, str]) -> None:
    header, *data = get_csv(client, admin_headers, [("format", "csv")])
    assert header == [*METRIC_COLUMNS, *DISPLAY_COLUMNS]
    assert len(data) == 1
    cells = dict(zip(header, data[0], strict=True))
    for metric in METRICS:
        assert cells[f"{metric}_n"] == "0"
        assert cells[f"{metric}_nps"] == ""
        assert cells[f"{metric}_ci_low"] == ""
        assert cells[f"{metric}_ci_high"] == ""


def test_json_is_the_default(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(client, admin_headers, dataset(count=8))
    for accept in (None, "application/json", "*/*"):
        headers = dict(admin_headers)
        if accept:
            headers["Accept"] = accept
        reply = client.get("/v1/scores", headers=headers)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"].startswith("application/json"), accept
        assert reply.json()["groups"][0]["overall"]["n"] == 8
    # format=json wins over an Accept header asking for CSV.
    reply = client.get(
        "/v1/scores", headers={**admin_headers, "Accept": "text/csv"}, params={"format": "json"}
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
