"""GET /v1/scores/compare: the change between two periods, its interval and significance.

Expected figures come from STATISTICS.md's example C and from a reference written here
from the formulas (adjusted-Wald centres and standard errors, normal p-values, Holm).
"""

import math
from statistics import NormalDist
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import answer, assert_problem, post_all
from tests.reference import centre_se
from tests.reference import compare as reference

CURRENT = {"from": "2026-03-01", "to": "2026-04-01"}
BASELINE = {"baseline_from": "2026-02-01", "baseline_to": "2026-03-01"}


def period_answers(
    promoters: int, passives: int, detractors: int, day: str, **fields: Any
) -> list[dict[str, Any]]:
    scores = [10] * promoters + [8] * passives + [3] * detractors
    return [answer(s, submitted_at=f"{day}T12:00:00Z", **fields) for s in scores]


def test_example_c_through_the_api(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(
        client,
        admin_headers,
        period_answers(110, 50, 40, "2026-03-10") + period_answers(90, 60, 50, "2026-02-10"),
    )
    reply = client.get("/v1/scores/compare", headers=admin_headers, params=CURRENT | BASELINE)
    assert reply.status_code == 200, reply.text
    (group,) = reply.json()["groups"]
    assert group["key"] == {}
    overall = group["overall"]
    assert overall["current"]["n"] == 200
    assert overall["current"]["nps"] == 35.0
    assert overall["baseline"]["nps"] == 20.0
    expected = reference((110, 50, 40), (90, 60, 50))
    for name, value in expected.items():
        assert overall[name] == pytest.approx(value, rel=1e-9), name
    assert overall["p_value_adjusted"] == pytest.approx(expected["p_value"], rel=1e-9)
    # No dimension was rated: nothing to compare, so nothing is claimed.
    logistics = group["dimensions"]["logistics"]
    assert logistics["current"]["n"] == 0
    assert logistics["delta"] is None
    assert logistics["p_value"] is None


def test_default_baseline_is_the_previous_period_of_the_same_length(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_all(
        client,
        admin_headers,
        period_answers(3, 0, 1, "2026-03-20")
        + period_answers(1, 0, 1, "2026-03-05")
        + period_answers(5, 0, 0, "2026-02-27")
        + period_answers(0, 0, 9, "2026-02-10"),  # before the default baseline
    )
    params = {"from": "2026-03-10", "to": "2026-03-30", "tz": "Asia/Shanghai"}
    reply = client.get("/v1/scores/compare", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    # The 20 days before 2026-03-10 in Shanghai: from Feb 18 to Mar 10, local midnights.
    assert body["query"]["baseline_from"] == "2026-02-17T16:00:00Z"
    assert body["query"]["baseline_to"] == "2026-03-09T16:00:00Z"
    overall = body["groups"][0]["overall"]
    assert overall["current"]["n"] == 4
    assert overall["baseline"]["n"] == 7
    assert overall["delta"] == pytest.approx(50.0 - 100 * (6 - 1) / 7)


def test_groups_are_matched_by_key_and_holm_adjusted(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    counts = {
        "apparel": ((60, 20, 20), (40, 20, 40)),
        "beauty": ((30, 40, 30), (28, 42, 30)),
        "food": ((50, 30, 20), (30, 30, 40)),
    }
    answers = []
    for category, (now, then) in counts.items():
        answers += period_answers(*now, "2026-03-10", context={"category": category})
        answers += period_answers(*then, "2026-02-10", context={"category": category})
    # Only in the current period: compared against nothing.
    answers += period_answers(5, 0, 0, "2026-03-11", context={"category": "toys"})
    post_all(client, admin_headers, answers)
    params = CURRENT | BASELINE | {"group_by": "category"}
    reply = client.get("/v1/scores/compare", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text
    groups = {g["key"]["category"]: g["overall"] for g in reply.json()["groups"]}
    assert list(groups) == ["apparel", "beauty", "food", "toys"]
    assert groups["toys"]["baseline"]["n"] == 0
    assert groups["toys"]["p_value"] is None
    assert groups["toys"]["p_value_adjusted"] is None
    raw = {c: reference(now, then)["p_value"] for c, (now, then) in counts.items()}
    for category, p in raw.items():
        assert groups[category]["p_value"] == pytest.approx(p, rel=1e-9)
    # Holm by hand: ascending p times (m - rank), kept monotone, capped at 1.
    ordered = sorted(raw, key=raw.__getitem__)
    running, holm = 0.0, {}
    for rank, category in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - rank) * raw[category]))
        holm[category] = running
    for category, p in holm.items():
        assert groups[category]["p_value_adjusted"] == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "baseline_from"),  # no baseline and no current range to derive one from
        ({"from": "2026-03-01"}, "baseline_from"),
        (CURRENT | {"baseline_from": "2026-02-01"}, "baseline_to"),
        (CURRENT | {"baseline_from": "2026-03-01", "baseline_to": "2026-02-01"}, "baseline_to"),
        (CURRENT | {"baseline_from": "yesterday", "baseline_to": "2026-02-01"}, "baseline_from"),
        (CURRENT | BASELINE | {"interval": "day"}, "interval"),
        (CURRENT | BASELINE | {"sort": "-nps"}, "sort"),
    ],
)
def test_bad_ranges_are_named(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str], parameter: str
) -> None:
    reply = client.get("/v1/scores/compare", headers=admin_headers, params=params)
    body = assert_problem(reply, 422)
    assert parameter in [e.get("parameter") for e in body["errors"]]


def test_compare_needs_a_key(client: TestClient) -> None:
    assert_problem(client.get("/v1/scores/compare", params=CURRENT | BASELINE), 401)


def test_weighted_comparison_uses_kish_effective_n(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    # STATISTICS.md example B in the current period; three equal-weight answers before.
    weighted = [(10, 0.5)] * 4 + [(10, 1.0)] * 2 + [(8, 1.0), (8, 2.0), (3, 2.0), (3, 3.0)]
    now = [answer(s, weight=w, submitted_at="2026-03-10T12:00:00Z") for s, w in weighted]
    then = [answer(s, submitted_at="2026-02-10T12:00:00Z") for s in (10, 8, 3)]
    post_all(client, admin_headers, now + then)
    params = CURRENT | BASELINE | {"weighted": "true"}
    reply = client.get("/v1/scores/compare", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text
    overall = reply.json()["groups"][0]["overall"]
    # Reference: n_eff = 12²/21, counts n_eff × weighted share, then §4.
    n_eff = 12**2 / 21
    p_share, d_share = 4 / 12, 5 / 12
    c1, se1 = centre_se(n_eff * p_share, n_eff * d_share, n_eff)
    c2, se2 = centre_se(1, 1, 3)
    z = (c1 - c2) / math.sqrt(se1**2 + se2**2)
    assert overall["current"]["nps"] == pytest.approx(-100 / 12)
    assert overall["delta"] == pytest.approx(-100 / 12 - 0.0)
    assert overall["z"] == pytest.approx(z, rel=1e-9)
    assert overall["p_value"] == pytest.approx(2 * (1 - NormalDist().cdf(abs(z))), rel=1e-9)
