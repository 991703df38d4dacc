"""GET /v1/drivers: key drivers of the overall score (STATISTICS.md §6).

The reference below works on the raw answers, not on sums: Johnson's (2000) construction
as he wrote it — the standardised predictors' nearest orthonormal matrix Z from their SVD,
the overall score regressed on Z, the predictors regressed on Z — with numpy's least
squares, R² from an ordinary regression with an intercept, and correlation intervals from
scipy. The service computes from additive sums and an eigen-decomposition instead.
"""

import random
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats

from nps_service.config import Settings
from nps_service.db import create_db_engine
from nps_service.rollups.fold import fold_batch
from tests.helpers import answer, assert_problem, post_all

DIMS = ("logistics", "product", "service", "app")


def synthetic(
    rng: random.Random, count: int, effects: tuple[float, ...], **fields: Any
) -> list[dict[str, Any]]:
    """Correlated ratings (a shared mood), an overall score driven by `effects`."""
    bodies = []
    for _ in range(count):
        mood = rng.gauss(0, 1.5)
        ratings = [max(0, min(10, round(6 + mood + rng.gauss(0, 2)))) for _ in DIMS]
        latent = 1 + sum(e * r for e, r in zip(effects, ratings, strict=True))
        score = max(0, min(10, round(latent + rng.gauss(0, 1.2))))
        bodies.append(
            answer(
                score,
                dimensions=dict(zip(DIMS, ratings, strict=True)),
                submitted_at=f"2026-05-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
                **fields,
            )
        )
    return bodies


def complete(bodies: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y, X (four columns) and weights of the answers that rated all four dimensions."""
    rows = [b for b in bodies if all(d in b.get("dimensions", {}) for d in DIMS)]
    y = np.array([b["score"] for b in rows], dtype=float)
    x = np.array([[b["dimensions"][d] for d in DIMS] for b in rows], dtype=float)
    w = np.array([b.get("weight", 1.0) for b in rows], dtype=float)
    return y, x, w


def johnson_reference(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    """Relative weights, R², correlations and betas from the raw (weighted) data."""
    w = w / w.sum()
    centred_x = x - w @ x
    centred_y = y - w @ y
    # Weighted standardisation: rows scaled by √w make plain least squares weighted.
    root = np.sqrt(w)[:, None]
    zx = root * centred_x / np.sqrt(w @ centred_x**2)
    zy = root[:, 0] * centred_y / np.sqrt(w @ centred_y**2)
    p, _, qt = np.linalg.svd(zx, full_matrices=False)
    z = p @ qt  # the orthonormal matrix nearest to zx
    beta_z = np.linalg.lstsq(z, zy, rcond=None)[0]
    lam = np.linalg.lstsq(z, zx, rcond=None)[0]  # predictors on Z
    epsilon = (lam**2).T @ (beta_z**2)
    design = root * np.column_stack([np.ones(len(y)), x])
    fitted = design @ np.linalg.lstsq(design, root[:, 0] * y, rcond=None)[0]
    residual = root[:, 0] * y - fitted
    r_squared = 1 - (residual @ residual) / (w @ centred_y**2)
    correlations = [float(zx[:, j] @ zy) for j in range(x.shape[1])]
    betas = np.linalg.lstsq(zx, zy, rcond=None)[0]
    return {
        "epsilon": epsilon,
        "r_squared": r_squared,
        "correlations": correlations,
        "betas": betas,
        "means": w @ x,
    }


def get_drivers(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    reply = client.get("/v1/drivers", headers=headers, params=params)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def assert_matches(group: dict[str, Any], reference: dict[str, Any], n: int) -> None:
    assert group["fitted"] is True
    assert group["n"] == n
    assert group["r_squared"] == pytest.approx(reference["r_squared"], rel=1e-9)
    assert sum(group["dimensions"][d]["relative_weight"] for d in DIMS) == pytest.approx(
        group["r_squared"], rel=1e-12
    )
    for j, d in enumerate(DIMS):
        driver = group["dimensions"][d]
        assert driver["n"] == n
        assert driver["relative_weight"] == pytest.approx(reference["epsilon"][j], rel=1e-8)
        assert driver["relative_weight_share"] == pytest.approx(
            reference["epsilon"][j] / reference["r_squared"], rel=1e-8
        )
        assert driver["correlation"] == pytest.approx(reference["correlations"][j], rel=1e-9)
        assert driver["standardized_beta"] == pytest.approx(reference["betas"][j], rel=1e-8)
        assert driver["mean"] == pytest.approx(reference["means"][j], rel=1e-12)


def test_reference_reproduces_the_defining_identities() -> None:
    """Independent of the service: Σε = R², and ε = r² for uncorrelated predictors."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 11, size=(400, 4)).astype(float)
    y = x @ np.array([0.5, 0.3, 0.1, 0.0]) + rng.normal(0, 1, 400)
    reference = johnson_reference(y, x, np.ones(400))
    assert reference["epsilon"].sum() == pytest.approx(reference["r_squared"], rel=1e-10)
    # A full factorial design has exactly uncorrelated predictors.
    levels = np.array(
        [[a, b, c, d] for a in (3, 7) for b in (3, 7) for c in (3, 7) for d in (3, 7)]
    )
    y = levels @ np.array([1.0, 0.5, 0.0, 0.0]) + np.tile([0.3, -0.3], 8)
    reference = johnson_reference(y, levels.astype(float), np.ones(16))
    r = np.array([np.corrcoef(levels[:, j], y)[0, 1] for j in range(4)])
    assert reference["epsilon"] == pytest.approx(r**2, abs=1e-12)


def test_drivers_match_an_independent_computation(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    rng = random.Random(11)
    bodies = synthetic(rng, 700, (0.25, 0.35, 0.15, 0.05))
    # Answers missing a dimension count in that dimension's NPS, not in the model.
    partial = [
        answer(rng.randint(0, 10), dimensions={"logistics": rng.randint(0, 10)}) for _ in range(60)
    ] + [answer(rng.randint(0, 10)) for _ in range(40)]
    post_all(client, admin_headers, bodies[:400])
    # Part folded into rollups, part still pending, part stored after the fold.
    engine = create_db_engine(settings)
    fold_batch(engine, 250)
    engine.dispose()
    post_all(client, admin_headers, bodies[400:] + partial)
    y, x, w = complete(bodies)
    body = get_drivers(client, admin_headers)
    (group,) = body["groups"]
    assert group["key"] == {}
    assert_matches(group, johnson_reference(y, x, w), 700)
    assert group["overall_mean"] == pytest.approx(y.mean(), rel=1e-12)
    # Correlation intervals as scipy's Fisher transformation gives them.
    for j, d in enumerate(DIMS):
        low, high = stats.pearsonr(x[:, j], y).confidence_interval(0.95)
        assert group["dimensions"][d]["correlation_ci_low"] == pytest.approx(low, rel=1e-9)
        assert group["dimensions"][d]["correlation_ci_high"] == pytest.approx(high, rel=1e-9)
    # The dimension's NPS is over everyone who rated it (800 rated logistics).
    logistics = group["dimensions"]["logistics"]
    rated = [b["dimensions"]["logistics"] for b in bodies + partial if b.get("dimensions")]
    assert logistics["score"]["n"] == 760
    expected_nps = 100 * (sum(r >= 9 for r in rated) - sum(r <= 6 for r in rated)) / len(rated)
    assert logistics["nps"] == pytest.approx(expected_nps, rel=1e-12)
    assert group["overall"]["n"] == 800
    # Folding everything changes nothing.
    engine = create_db_engine(settings)
    fold_batch(engine, 10_000)
    engine.dispose()
    assert get_drivers(client, admin_headers)["groups"] == body["groups"]


def test_priority_is_importance_times_room_to_improve(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    rng = random.Random(5)
    post_all(client, admin_headers, synthetic(rng, 500, (0.4, 0.1, 0.2, 0.02)))
    (group,) = get_drivers(client, admin_headers)["groups"]
    expected = {}
    for d in DIMS:
        driver = group["dimensions"][d]
        expected[d] = driver["relative_weight_share"] * (100 - driver["nps"]) / 200
        assert driver["priority_score"] == pytest.approx(expected[d], rel=1e-12)
    order = sorted(DIMS, key=lambda d: -expected[d])
    assert group["priority"] == order
    assert [group["dimensions"][d]["priority"] for d in order] == [1, 2, 3, 4]
    assert order[0] == "logistics"  # the strongest effect, and no better rated than others


def test_weighted_drivers(client: TestClient, admin_headers: dict[str, str]) -> None:
    rng = random.Random(8)
    bodies = synthetic(rng, 400, (0.3, 0.3, 0.1, 0.1))
    for body in bodies:
        body["weight"] = rng.choice([0.5, 1.0, 2.5, 4.0])
    post_all(client, admin_headers, bodies)
    y, x, w = complete(bodies)
    (group,) = get_drivers(client, admin_headers, weighted="true")["groups"]
    assert_matches(group, johnson_reference(y, x, w), 400)
    assert group["effective_n"] == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)
    # The Fisher interval uses the effective n.
    r = group["dimensions"]["product"]["correlation"]
    half = stats.norm.ppf(0.975) / np.sqrt(group["effective_n"] - 3)
    assert group["dimensions"]["product"]["correlation_ci_low"] == pytest.approx(
        np.tanh(np.arctanh(r) - half), rel=1e-9
    )
    unweighted = get_drivers(client, admin_headers)["groups"][0]
    assert unweighted["r_squared"] != pytest.approx(group["r_squared"], rel=1e-6)


def test_groups_buckets_filters_and_properties(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    rng = random.Random(2)
    beauty = synthetic(rng, 150, (0.5, 0.1, 0.1, 0.1), context={"category": "beauty"})
    food = synthetic(rng, 120, (0.1, 0.1, 0.5, 0.1), context={"category": "food"})
    for body in food[:70]:
        body["properties"] = {"campaign": "double11"}
    post_all(client, admin_headers, beauty + food)
    body = get_drivers(client, admin_headers, group_by="category")
    assert [g["key"] for g in body["groups"]] == [{"category": "beauty"}, {"category": "food"}]
    for group, data in zip(body["groups"], (beauty, food), strict=True):
        assert_matches(group, johnson_reference(*complete(data)), len(data))
    (food_group,) = get_drivers(client, admin_headers, category="food")["groups"]
    assert food_group["r_squared"] == pytest.approx(body["groups"][1]["r_squared"], rel=1e-12)
    assert food_group["priority"][0] == "service"
    (campaign,) = get_drivers(client, admin_headers, **{"property.campaign": "double11"})["groups"]
    assert_matches(campaign, johnson_reference(*complete(food[:70])), 70)
    # Buckets: May in one group per ISO week, ordered by key.
    weekly = get_drivers(client, admin_headers, interval="week", tz="Asia/Shanghai")
    buckets = [g["key"]["bucket"] for g in weekly["groups"]]
    assert buckets == sorted(buckets)
    assert sum(g["n"] for g in weekly["groups"]) == 270
    assert weekly["query"]["interval"] == "week"


def test_a_dimension_equal_to_the_score_takes_all_the_weight(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """By hand: overall = logistics, the other ratings independent of both (factorial)."""
    bodies = []
    for logistics in (2, 9):
        for product in (3, 7):
            for service in (3, 7):
                for app in (3, 7):
                    dims = {"logistics": logistics, "product": product, "service": service}
                    bodies.append(answer(logistics, dimensions={**dims, "app": app}))
    post_all(client, admin_headers, bodies)
    (group,) = get_drivers(client, admin_headers)["groups"]
    assert group["r_squared"] == pytest.approx(1.0, abs=1e-12)
    logistics = group["dimensions"]["logistics"]
    assert logistics["correlation"] == pytest.approx(1.0, abs=1e-12)
    assert logistics["relative_weight_share"] == pytest.approx(1.0, abs=1e-12)
    for d in ("product", "service", "app"):
        assert group["dimensions"][d]["correlation"] == pytest.approx(0.0, abs=1e-12)
        assert group["dimensions"][d]["relative_weight"] == pytest.approx(0.0, abs=1e-12)


def test_identical_dimensions_share_their_weight(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """service == app in every answer: a singular correlation matrix, weight split evenly."""
    rng = random.Random(4)
    bodies = synthetic(rng, 300, (0.3, 0.2, 0.3, 0.0))
    for body in bodies:
        body["dimensions"]["app"] = body["dimensions"]["service"]
    post_all(client, admin_headers, bodies)
    (group,) = get_drivers(client, admin_headers)["groups"]
    service, app = group["dimensions"]["service"], group["dimensions"]["app"]
    assert service["relative_weight"] == pytest.approx(app["relative_weight"], rel=1e-9)
    y, x, _ = complete(bodies)
    design = np.column_stack([np.ones(len(y)), x[:, :3]])
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    r_squared = 1 - residual @ residual / ((y - y.mean()) @ (y - y.mean()))
    assert group["r_squared"] == pytest.approx(r_squared, rel=1e-9)


def test_a_constant_dimension_explains_nothing(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    rng = random.Random(6)
    bodies = synthetic(rng, 200, (0.3, 0.3, 0.3, 0.0))
    for body in bodies:
        body["dimensions"]["app"] = 8
    post_all(client, admin_headers, bodies)
    (group,) = get_drivers(client, admin_headers)["groups"]
    app = group["dimensions"]["app"]
    assert app["correlation"] is None
    assert app["relative_weight"] == 0.0
    assert app["relative_weight_share"] == 0.0
    assert app["mean"] == 8.0
    y, x, w = complete(bodies)
    reference = johnson_reference(y, x[:, :3], w)
    for j, d in enumerate(DIMS[:3]):
        assert group["dimensions"][d]["relative_weight"] == pytest.approx(
            reference["epsilon"][j], rel=1e-8
        )


@pytest.mark.parametrize(
    ("bodies", "reason"),
    [
        ([answer(9), answer(3, dimensions={"logistics": 4})], "rated all four"),
        (
            [answer(9, dimensions=dict.fromkeys(DIMS, r)) for r in (2, 5, 7, 9)],
            "overall score is the same",
        ),
        (
            [answer(s, dimensions=dict.fromkeys(DIMS, 6)) for s in (2, 5, 7, 9)],
            "no dimension rating varies",
        ),
        (
            [
                answer(s, dimensions={"logistics": r, "product": 3, "service": 4, "app": 5})
                for s, r in ((2, 1), (5, 4))
            ],
            "too few",
        ),
    ],
    ids=["no-complete-case", "constant-score", "constant-ratings", "too-few"],
)
def test_no_model_says_why(
    client: TestClient, admin_headers: dict[str, str], bodies: list[Any], reason: str
) -> None:
    post_all(client, admin_headers, bodies)
    (group,) = get_drivers(client, admin_headers)["groups"]
    assert group["fitted"] is False
    assert reason in group["reason"]
    assert group["r_squared"] is None
    assert group["priority"] == []
    assert all(group["dimensions"][d]["relative_weight"] is None for d in DIMS)
    assert group["overall"]["n"] == len(bodies)


def test_too_few_still_reports_the_correlation(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    bodies = [
        answer(s, dimensions={"logistics": r, "product": 3, "service": 4, "app": 5})
        for s, r in ((2, 1), (5, 4))
    ]
    post_all(client, admin_headers, bodies)
    (group,) = get_drivers(client, admin_headers)["groups"]
    assert group["dimensions"]["logistics"]["correlation"] == pytest.approx(1.0)
    assert group["dimensions"]["logistics"]["correlation_ci_low"] is None  # n ≤ 3


def test_min_n_suppresses_the_model(client: TestClient, admin_headers: dict[str, str]) -> None:
    post_all(client, admin_headers, synthetic(random.Random(1), 40, (0.3, 0.3, 0.3, 0.1)))
    (group,) = get_drivers(client, admin_headers, min_n=41)["groups"]
    assert group["suppressed"] is True
    assert group["fitted"] is False
    assert "min_n" in group["reason"]
    assert group["dimensions"]["logistics"]["correlation"] is None
    assert group["dimensions"]["logistics"]["nps"] is None  # suppressed like any score
    assert group["overall"]["suppressed"] is True
    (group,) = get_drivers(client, admin_headers, min_n=40)["groups"]
    assert group["fitted"] is True


def test_empty_scope_has_one_empty_group(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = get_drivers(client, admin_headers, category="nobody")
    (group,) = body["groups"]
    assert group["n"] == 0
    assert group["fitted"] is False
    assert group["overall"]["n"] == 0
    assert get_drivers(client, admin_headers, group_by="category")["groups"] == []


def test_bad_parameters_are_named(client: TestClient, admin_headers: dict[str, str]) -> None:
    reply = client.get(
        "/v1/drivers",
        headers=admin_headers,
        params={"sort": "-nps", "confidence": "2", "group_by": "colour", "tz": "Mars/Base"},
    )
    body = assert_problem(reply, 422)
    assert {e["parameter"] for e in body["errors"]} == {"sort", "confidence", "group_by", "tz"}


def test_drivers_need_the_read_scope(
    client: TestClient, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    assert_problem(client.get("/v1/drivers"), 401)
    assert_problem(client.get("/v1/drivers", headers=ingest_headers), 403)
    assert client.get("/v1/drivers", headers=read_headers).status_code == 200
