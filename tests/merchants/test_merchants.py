"""GET /v1/merchants: a category's merchants ranked over a trailing window."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.db import create_db_engine, make_session_factory
from nps_service.keys.service import Scope, create_key
from nps_service.main import create_app
from tests.helpers import answer, assert_problem, post_all
from tests.reference import ci_low, nps

WINDOW = {"category": "beauty", "end": "2026-03-31", "window_days": "30"}


def merchant_answers(
    merchant: str, scores: list[int], day: str = "2026-03-15", category: str = "beauty"
) -> list[dict[str, Any]]:
    context = {"merchant_id": merchant, "category": category}
    return [answer(s, submitted_at=f"{day}T08:00:00Z", context=context) for s in scores]


SCORES = {
    "m_big_good": [10] * 16 + [8] * 2 + [3] * 2,
    "m_tiny": [10, 10, 9],
    "m_mid": [10] * 8 + [7] * 6 + [2] * 6,
}


def post_merchants(client: TestClient, headers: dict[str, str]) -> None:
    answers = [a for m, scores in SCORES.items() for a in merchant_answers(m, scores)]
    answers += merchant_answers("m_big_good", [0] * 5, day="2026-02-20")  # before the window
    answers += merchant_answers("m_food", [10] * 5, category="food")
    post_all(client, headers, answers)


def test_rank_by_nps_or_by_lower_bound(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_merchants(client, admin_headers)
    by_nps = client.get("/v1/merchants", headers=admin_headers, params=WINDOW | {"sort": "-nps"})
    assert by_nps.status_code == 200, by_nps.text
    body = by_nps.json()
    assert body["query"]["from"] == "2026-03-01T00:00:00Z"
    assert body["query"]["to"] == "2026-03-31T00:00:00Z"
    merchants = body["merchants"]
    assert [m["merchant_id"] for m in merchants] == sorted(SCORES, key=lambda m: -nps(SCORES[m]))
    assert merchants[0]["merchant_id"] == "m_tiny"  # three promoters: NPS 100
    assert [m["rank"] for m in merchants] == [1, 2, 3]
    for m in merchants:
        assert m["overall"]["n"] == len(SCORES[m["merchant_id"]])  # window only
    by_bound = client.get(
        "/v1/merchants", headers=admin_headers, params=WINDOW | {"sort": "-ci_low"}
    ).json()["merchants"]
    expected = sorted(SCORES, key=lambda m: -ci_low(SCORES[m]))
    assert [m["merchant_id"] for m in by_bound] == expected
    assert expected[0] == "m_big_good"  # the tiny sample no longer tops the list
    for m in by_bound:
        assert m["overall"]["ci_low"] == pytest.approx(ci_low(SCORES[m["merchant_id"]]))


def test_min_n_and_limit(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_merchants(client, admin_headers)
    params = WINDOW | {"min_n": "10", "sort": "nps", "limit": "1"}
    body = client.get("/v1/merchants", headers=admin_headers, params=params).json()
    assert body["query"]["merchants_ranked"] == 2
    assert [m["merchant_id"] for m in body["merchants"]] == ["m_mid"]


def test_composite_uses_the_configured_weights(settings: Settings) -> None:
    weighted = settings.model_copy(update={"composite_weights": {"logistics": 3.0, "app": 1.0}})
    engine = create_db_engine(weighted)
    with make_session_factory(engine)() as session:
        _, key = create_key(session, "composite", [Scope.ADMIN])
        session.commit()
    engine.dispose()
    headers = {"Authorization": f"Bearer {key}"}
    context = {"merchant_id": "m_1", "category": "beauty"}
    answers = [
        answer(
            9,
            submitted_at="2026-03-10T08:00:00Z",
            context=context,
            dimensions={"logistics": logistics, "app": app, "product": 0},
        )
        for logistics, app in ((10, 0), (10, 10), (0, 10), (10, 10))
    ]
    with TestClient(create_app(weighted)) as client:
        post_all(client, headers, answers)
        reply = client.get("/v1/merchants", headers=headers, params=WINDOW | {"sort": "-composite"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["query"]["composite_weights"] == {"logistics": 3.0, "app": 1.0}
    (merchant,) = body["merchants"]
    logistics_nps = 100 * (3 - 1) / 4
    app_nps = 100 * (3 - 1) / 4
    # product (NPS -100) has no weight here, so it does not count.
    assert merchant["dimensions"]["product"]["nps"] == -100.0
    assert merchant["composite"] == pytest.approx((3 * logistics_nps + app_nps) / 4)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"window_days": "30"}, "category"),
        (WINDOW | {"sort": "-median"}, "sort"),
        (WINDOW | {"sort": "shipping.nps"}, "sort"),
        (WINDOW | {"window_days": "0"}, "window_days"),
        (WINDOW | {"tz": "Mars/Base"}, "tz"),
    ],
)
def test_bad_parameters_are_named(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str], parameter: str
) -> None:
    body = assert_problem(client.get("/v1/merchants", headers=admin_headers, params=params), 422)
    assert parameter in [e.get("parameter") for e in body["errors"]]


def test_scorecard_rank_percentile_and_change(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_merchants(client, admin_headers)
    # m_mid's previous 30 days (Jan 30 - Mar 1): 10 answers, NPS 0.
    before = [10] * 3 + [8] * 4 + [4] * 3
    post_all(client, admin_headers, merchant_answers("m_mid", before, day="2026-02-10"))
    params = {"end": "2026-03-31", "window_days": "30", "rank_by": "-ci_low"}
    reply = client.get("/v1/merchants/m_mid/scorecard", headers=admin_headers, params=params)
    assert reply.status_code == 200, reply.text
    card = reply.json()
    assert card["category"] == "beauty"
    assert card["window"] == {
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-03-31T00:00:00Z",
        "days": 30,
        "tz": "UTC",
    }
    assert card["baseline_window"]["from"] == "2026-01-30T00:00:00Z"
    assert card["overall"]["n"] == len(SCORES["m_mid"])
    assert card["overall"]["nps"] == pytest.approx(nps(SCORES["m_mid"]))
    by_bound = sorted(SCORES, key=lambda m: -ci_low(SCORES[m]))
    position = by_bound.index("m_mid") + 1
    assert card["rank"] == {
        "by": "-ci_low",
        "position": position,
        "of": 3,
        "percentile": 100 * (3 - position) / 2,
        "min_n": 1,
    }
    change = card["change"]["overall"]
    assert change["baseline"]["n"] == len(before)
    assert change["delta"] == pytest.approx(nps(SCORES["m_mid"]) - nps(before))
    assert change["p_value"] is not None
    assert 0 < change["p_value"] <= 1
    assert card["composite"]["score"] is None  # no dimension was rated
    assert card["composite"]["weights"] == {
        "logistics": 1.0,
        "product": 1.0,
        "service": 1.0,
        "app": 1.0,
    }


def test_scorecard_of_a_merchant_below_min_n_has_no_rank(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_merchants(client, admin_headers)
    params = {"end": "2026-03-31", "window_days": "30", "min_n": "5"}
    card = client.get("/v1/merchants/m_tiny/scorecard", headers=admin_headers, params=params)
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["rank"]["position"] is None
    assert body["rank"]["percentile"] is None
    assert body["rank"]["of"] == 2
    assert body["overall"]["suppressed"] is True


def test_scorecard_of_an_unknown_merchant_is_404(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    post_merchants(client, admin_headers)
    reply = client.get(
        "/v1/merchants/m_nobody/scorecard", headers=admin_headers, params={"end": "2026-03-31"}
    )
    assert_problem(reply, 404)
