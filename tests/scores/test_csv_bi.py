"""CSV for spreadsheets and BI tools: `/v1/scores.csv`, `/v1/scores/trend.csv`,
`/v1/scores/compare.csv`, the same CSV from the JSON paths, a byte-order mark on request,
and each bucket's first instant and whether the range cuts it.

Expected instants are found here by scanning UTC minutes for the first one whose local
date (zoneinfo) is the bucket's, not by the service's midnight arithmetic.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, post_all
from tests.scores.csv_compare import (
    BOM,
    as_records,
    bi_answers,
    check_twins,
    get_csv,
    get_ok,
    spreadsheet_rows,
)

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"


def groups(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["groups"])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/scores", {}),
        ("/v1/scores", {"group_by": "category,channel", "weighted": "true"}),
        (
            "/v1/scores",
            {
                "interval": "week",
                "tz": SHANGHAI,
                "group_by": "category",
                "from": "2026-11-04",
                "to": "2026-11-25",
                "min_n": "5",
            },
        ),
        ("/v1/scores/trend", {"interval": "day", "tz": SHANGHAI, "group_by": "category"}),
        ("/v1/scores/trend", {"interval": "week", "from": "2026-11-04", "confidence": "0.9"}),
        (
            "/v1/scores/compare",
            {"from": "2026-11-15", "to": "2026-12-01", "tz": SHANGHAI, "group_by": "category"},
        ),
        ("/v1/scores/compare", {"from": "2026-11-10", "to": "2026-11-20", "weighted": "true"}),
    ],
)
def test_csv_twins_equal_their_json(
    client: TestClient, admin_headers: dict[str, str], path: str, params: dict[str, str]
) -> None:
    post_all(client, admin_headers, bi_answers())
    check_twins(client, admin_headers, path, params, groups)


def test_scores_csv_columns_come_in_order(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(client, admin_headers, bi_answers(30))
    params = {"interval": "day", "tz": SHANGHAI, "group_by": "category,merchant_id"}
    header = spreadsheet_rows(get_csv(client, "/v1/scores.csv", admin_headers, params))[0]
    assert header[:8] == [
        "bucket",
        "bucket_start",
        "partial",
        "category",
        "merchant_id",
        "overall_n",
        "overall_nps",
        "overall_ci_low",
    ]
    assert header[-4:] == [
        "displays_shown",
        "displays_answered",
        "displays_declined",
        "displays_response_rate",
    ]
    trend = spreadsheet_rows(
        get_csv(client, "/v1/scores/trend.csv", admin_headers, {"interval": "week"})
    )[0]
    assert trend[:7] == [
        "first_bucket",
        "first_bucket_start",
        "first_bucket_partial",
        "last_bucket",
        "last_bucket_start",
        "last_bucket_partial",
        "overall_buckets",
    ]


def test_chinese_tags_survive_excel_with_the_bom(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(client, admin_headers, bi_answers(12))
    params = {"group_by": "category", "bom": "true"}
    content = get_csv(client, "/v1/scores.csv", admin_headers, params)
    assert content.startswith(BOM)
    assert "生鲜".encode() in content
    # Excel, told by the BOM that the file is UTF-8 (Python's utf-8-sig decodes the same way).
    categories = [record["category"] for record in as_records(content)]
    assert categories == ["'-x", "生鲜", "美妆"]  # in key order; the formula-like one guarded
    plain = get_csv(client, "/v1/scores.csv", admin_headers, {"group_by": "category"})
    assert not plain.startswith(BOM)
    assert plain.decode("utf-8") == content.decode("utf-8-sig")


def test_bom_is_for_csv_only(client: TestClient, admin_headers: dict[str, str]) -> None:
    for path, params in (
        ("/v1/scores", {}),
        ("/v1/scores/trend", {"interval": "day"}),
        ("/v1/scores/compare", {"from": "2026-11-01", "to": "2026-11-02"}),
    ):
        body = assert_problem(
            client.get(path, headers=admin_headers, params={**params, "bom": "true"}), 422
        )
        assert [e["parameter"] for e in body["errors"]] == ["bom"]
        assert "only to CSV" in body["detail"]
        reply = client.get(path, headers=admin_headers, params={**params, "bom": "false"})
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("application/json")
    # format=json wins over Accept: text/csv, and then a BOM makes no sense either.
    reply = client.get(
        "/v1/scores",
        headers={**admin_headers, "Accept": "text/csv"},
        params={"format": "json", "bom": "true"},
    )
    assert_problem(reply, 422)


def test_format_json_and_accept_json_keep_json(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(client, admin_headers, bi_answers(12))
    for path, params in (
        ("/v1/scores/trend", {"interval": "day"}),
        ("/v1/scores/compare", {"from": "2026-11-01", "to": "2026-11-10"}),
    ):
        for accept, extra in (
            ("text/csv", {"format": "json"}),
            ("text/csv, application/json", {}),
            ("*/*", {}),
        ):
            reply = get_ok(client, path, admin_headers, {**params, **extra}, accept=accept)
            assert reply.headers["content-type"].startswith("application/json"), accept
        reply = get_ok(client, path, admin_headers, params, accept="text/csv;q=0.9")
        assert reply.headers["content-type"].startswith("text/csv")


def first_instant(day: date, tz: str) -> str:
    """The first instant whose local date in `tz` is `day`, by scanning UTC minutes."""
    zone = ZoneInfo(tz)
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=16)
    while instant.astimezone(zone).date() < day:
        instant += timedelta(minutes=1)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("tz", "days", "expected"),
    [
        (SHANGHAI, ["2026-11-20"], {"day": ["2026-11-19T16:00:00Z"]}),
        (
            NEW_YORK,  # EDT until 2026-11-01 02:00, then EST
            ["2026-10-31", "2026-11-01", "2026-11-02"],
            {
                "day": ["2026-10-31T04:00:00Z", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"],
                "week": ["2026-10-26T04:00:00Z", "2026-11-02T05:00:00Z"],
                "month": ["2026-10-01T04:00:00Z", "2026-11-01T04:00:00Z"],
            },
        ),
        # Santiago moves its clocks from 00:00 to 01:00 on 2026-09-06: that day has no
        # midnight, and starts at 01:00 local, 04:00 UTC.
        ("America/Santiago", ["2026-09-05", "2026-09-06"], {"day": ["2026-09-05T04:00:00Z"] * 2}),
    ],
)
def test_bucket_start_is_the_first_instant_of_the_bucket(
    client: TestClient,
    admin_headers: dict[str, str],
    tz: str,
    days: list[str],
    expected: dict[str, list[str]],
) -> None:
    zone = ZoneInfo(tz)
    noon = [datetime.fromisoformat(f"{day}T12:00").replace(tzinfo=zone) for day in days]
    post_all(client, admin_headers, [answer(9, submitted_at=t.isoformat()) for t in noon])
    for interval, starts in expected.items():
        params = {"interval": interval, "tz": tz}
        body = get_ok(client, "/v1/scores", admin_headers, params).json()
        keys = [group["key"] for group in body["groups"]]
        assert [key["bucket_start"] for key in keys] == [
            first_instant(date.fromisoformat(key["bucket"]), tz) for key in keys
        ]
        if tz != "America/Santiago":
            assert [key["bucket_start"] for key in keys] == starts, interval
        records = as_records(get_csv(client, "/v1/scores.csv", admin_headers, params))
        assert [r["bucket_start"] for r in records] == [key["bucket_start"] for key in keys]
        trend = get_ok(client, "/v1/scores/trend", admin_headers, params).json()["groups"][0]
        assert trend["first_bucket_start"] == keys[0]["bucket_start"]
        assert trend["last_bucket_start"] == keys[-1]["bucket_start"]
    santiago = [first_instant(date(2026, 9, 6), "America/Santiago")]
    assert santiago == ["2026-09-06T04:00:00Z"]  # the scan agrees: 01:00 local


def shanghai_week(days: range) -> list[dict[str, Any]]:
    """One answer at noon Shanghai on each day of November 2026 in `days`."""
    return [
        answer(9 if day % 2 else 3, submitted_at=f"2026-11-{day:02d}T12:00:00+08:00")
        for day in days
    ]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # from a Wednesday, to a Thursday: both edge weeks are cut.
        (
            {"from": "2026-11-04", "to": "2026-11-19"},
            [("2026-11-02", True), ("2026-11-09", False), ("2026-11-16", True)],
        ),
        # Whole weeks: Monday to Monday.
        (
            {"from": "2026-11-02", "to": "2026-11-23"},
            [("2026-11-02", False), ("2026-11-09", False), ("2026-11-16", False)],
        ),
        # One second past the week's start is a cut too; an open `to` cuts nothing.
        (
            {"from": "2026-11-02T00:00:01+08:00"},
            [("2026-11-02", True), ("2026-11-09", False), ("2026-11-16", False)],
        ),
        # `to` as an instant inside a week.
        ({"to": "2026-11-15T23:00:00+08:00"}, [("2026-11-02", False), ("2026-11-09", True)]),
        ({}, [("2026-11-02", False), ("2026-11-09", False), ("2026-11-16", False)]),
    ],
)
def test_partial_marks_the_buckets_the_range_cuts(
    client: TestClient,
    admin_headers: dict[str, str],
    window: dict[str, str],
    expected: list[tuple[str, bool]],
) -> None:
    post_all(client, admin_headers, shanghai_week(range(2, 19)))  # Monday 2 to Wednesday 18
    params = {"interval": "week", "tz": SHANGHAI, **window}
    body = get_ok(client, "/v1/scores", admin_headers, params).json()
    assert [(g["key"]["bucket"], g["partial"]) for g in body["groups"]] == expected
    records = as_records(get_csv(client, "/v1/scores.csv", admin_headers, params))
    assert [(r["bucket"], r["partial"]) for r in records] == [
        (bucket, "true" if partial else "false") for bucket, partial in expected
    ]
    (trend,) = get_ok(client, "/v1/scores/trend", admin_headers, params).json()["groups"]
    assert (trend["first_bucket"], trend["first_bucket_partial"]) == expected[0]
    assert (trend["last_bucket"], trend["last_bucket_partial"]) == expected[-1]


def test_partial_days_and_months(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(client, admin_headers, shanghai_week(range(1, 30)))
    days = get_ok(
        client,
        "/v1/scores",
        admin_headers,
        {"interval": "day", "tz": SHANGHAI, "from": "2026-11-03", "to": "2026-11-05T13:00"},
    ).json()["groups"]
    assert [(g["key"]["bucket"], g["partial"]) for g in days] == [
        ("2026-11-03", False),
        ("2026-11-04", False),
        ("2026-11-05", True),
    ]
    month = {"interval": "month", "tz": SHANGHAI}
    for window, partial in (
        ({"from": "2026-11-01", "to": "2026-12-01"}, False),
        ({"from": "2026-11-01", "to": "2026-11-30"}, True),
        ({"from": "2026-10-31T16:00:00Z"}, False),  # midnight in Shanghai, given in UTC
        ({"from": "2026-11-01", "tz": "UTC"}, False),  # a date: midnight in `tz`
        ({"from": "2026-11-01T08:00:00Z", "tz": "UTC"}, True),  # 8 hours into the month
    ):
        groups = get_ok(client, "/v1/scores", admin_headers, {**month, **window}).json()
        assert [g["partial"] for g in groups["groups"]] == [partial], window
    # Without buckets there is nothing to cut: `partial` is null.
    body = get_ok(client, "/v1/scores", admin_headers, {"from": "2026-11-03"}).json()
    assert body["groups"][0]["partial"] is None
