"""GET /v1/scores/trend: the weighted least-squares slope of NPS over the buckets.

The reference fits with numpy's polyfit (weights √w, so that it minimises Σ w·residual²)
and takes the slope's standard error from the normal equations, 1/√(Σ w (x − x̄_w)²).
"""

from statistics import NormalDist
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, post_all
from tests.reference import trend as reference


def day_answers(
    day: str, promoters: int, passives: int, detractors: int, **fields: Any
) -> list[dict[str, Any]]:
    scores = [9] * promoters + [7] * passives + [6] * detractors
    return [answer(s, submitted_at=f"{day}T06:00:00Z", **fields) for s in scores]


def test_daily_slope_with_a_gap(client: TestClient, admin_headers: dict[str, str]) -> None:
    days = {"2026-03-01": (10, 5, 10), "2026-03-03": (20, 5, 5), "2026-03-04": (30, 4, 2)}
    post_all(client, admin_headers, [a for d, c in days.items() for a in day_answers(d, *c)])
    reply = client.get("/v1/scores/trend", headers=admin_headers, params={"interval": "day"})
    assert reply.status_code == 200, reply.text
    (group,) = reply.json()["groups"]
    assert group["key"] == {}
    assert (group["first_bucket"], group["last_bucket"]) == ("2026-03-01", "2026-03-04")
    overall = group["overall"]
    # Day 2 had no answers: the fit keeps the real spacing 0, 2, 3.
    expected = reference(
        [(0, days["2026-03-01"]), (2, days["2026-03-03"]), (3, days["2026-03-04"])]
    )
    assert overall["buckets"] == 3
    for name, value in expected.items():
        assert overall[name] == pytest.approx(value, rel=1e-9), name
    z95 = NormalDist().inv_cdf(0.975)
    assert overall["slope_ci_low"] == pytest.approx(expected["slope"] - z95 * expected["slope_se"])
    assert overall["significant"] is (abs(expected["z"]) > z95)
    # Nothing rated the dimensions: no trend, and no claim.
    assert group["dimensions"]["app"]["buckets"] == 0
    assert group["dimensions"]["app"]["slope"] is None


def test_monthly_positions_and_groups(client: TestClient, admin_headers: dict[str, str]) -> None:
    answers = (
        day_answers("2026-01-15", 5, 0, 5, context={"channel": "app"})
        + day_answers("2026-03-15", 8, 0, 2, context={"channel": "app"})
        + day_answers("2026-02-15", 4, 0, 4, context={"channel": "web"})
    )
    post_all(client, admin_headers, answers)
    params = {"interval": "month", "group_by": "channel"}
    reply = client.get("/v1/scores/trend", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text
    groups = {g["key"]["channel"]: g["overall"] for g in reply.json()["groups"]}
    expected = reference([(0, (5, 0, 5)), (2, (8, 0, 2))])
    assert groups["app"]["slope"] == pytest.approx(expected["slope"], rel=1e-9)
    assert groups["app"]["slope"] == pytest.approx(30.0)  # 0 → 60 points over two months
    assert groups["web"]["buckets"] == 1
    assert groups["web"]["slope"] is None


def test_suppressed_buckets_stay_out_of_the_fit(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    days = {"2026-03-01": (10, 5, 10), "2026-03-02": (1, 0, 0), "2026-03-03": (20, 5, 5)}
    post_all(client, admin_headers, [a for d, c in days.items() for a in day_answers(d, *c)])
    params = {"interval": "day", "min_n": "5"}
    reply = client.get("/v1/scores/trend", headers=admin_headers, params=params)
    overall = reply.json()["groups"][0]["overall"]
    assert overall["buckets"] == 2
    expected = reference([(0, days["2026-03-01"]), (2, days["2026-03-03"])])
    assert overall["slope"] == pytest.approx(expected["slope"], rel=1e-9)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "interval"),
        ({"interval": "year"}, "interval"),
        ({"interval": "day", "sort": "n"}, "sort"),
    ],
)
def test_bad_parameters_are_named(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str], parameter: str
) -> None:
    body = assert_problem(client.get("/v1/scores/trend", headers=admin_headers, params=params), 422)
    assert parameter in [e.get("parameter") for e in body["errors"]]
