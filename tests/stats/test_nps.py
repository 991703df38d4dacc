"""Unit tests of nps_service.stats.nps against STATISTICS.md and an independent reference.

No database here. Every expected number is either worked out by hand in a comment or
computed by the shared reference (`tests/reference.py`), which starts from raw lists of
scores and weights (not from ClassTotals) and uses hard-coded normal quantiles.
"""

import math
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nps_service.stats.nps import ClassTotals, MetricStats, classify, summarise, z_for
from tests.reference import Z, interval, summary
from tests.reference import classify as classify_ref


def totals_from(scores: list[int], weights: list[float] | None = None) -> ClassTotals:
    """Build the additive sums the code under test consumes, from raw answers."""
    weights = weights if weights is not None else [1.0] * len(scores)
    by_class: dict[int, list[float]] = {1: [], 0: [], -1: []}
    for score, weight in zip(scores, weights, strict=True):
        by_class[classify_ref(score)].append(weight)
    return ClassTotals(
        promoters=len(by_class[1]),
        passives=len(by_class[0]),
        detractors=len(by_class[-1]),
        weight_promoters=math.fsum(by_class[1]),
        weight_passives=math.fsum(by_class[0]),
        weight_detractors=math.fsum(by_class[-1]),
        weight_squares=math.fsum(w * w for w in weights),
    )


def run(
    scores: list[int],
    weights: list[float] | None = None,
    *,
    confidence: float = 0.95,
    min_n: int = 1,
) -> MetricStats:
    return summarise(
        totals_from(scores, weights),
        weighted=weights is not None,
        confidence=confidence,
        min_n=min_n,
    )


def answers(promoters: int, passives: int, detractors: int) -> list[int]:
    """Raw scores with these class counts, spread over every score of each class."""
    return (
        [(9, 10)[i % 2] for i in range(promoters)]
        + [(7, 8)[i % 2] for i in range(passives)]
        + [i % 7 for i in range(detractors)]
    )


# --------------------------------------------------------------------------------------
# classify and z_for
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, -1),
        (5, -1),
        (6, -1),
        (7, 0),
        (8, 0),
        (9, 1),
        (10, 1),
    ],
)
def test_classify_boundaries(score: int, expected: int) -> None:
    assert classify(score) == expected


@pytest.mark.parametrize("score", [-1, 11, 100, -100])
def test_classify_rejects_out_of_range(score: int) -> None:
    with pytest.raises(ValueError, match="0-10"):
        classify(score)


@pytest.mark.parametrize(("confidence", "z"), sorted(Z.items()))
def test_z_for_matches_published_quantiles(confidence: float, z: float) -> None:
    assert z_for(confidence) == pytest.approx(z, rel=1e-12, abs=0)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5])
def test_z_for_rejects_levels_outside_zero_one(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        z_for(confidence)


# --------------------------------------------------------------------------------------
# STATISTICS.md worked examples
# --------------------------------------------------------------------------------------


def test_example_a_nps_shares_and_interval() -> None:
    # 110 / 50 / 40, n = 200 → NPS 35.0, shares 0.55 / 0.25 / 0.20, CI 23.6 to 45.4.
    result = run(answers(110, 50, 40))
    assert (result.n, result.promoters, result.passives, result.detractors) == (200, 110, 50, 40)
    assert result.nps == 35.0
    assert result.promoter_share == pytest.approx(0.55, abs=1e-12)
    assert result.passive_share == pytest.approx(0.25, abs=1e-12)
    assert result.detractor_share == pytest.approx(0.20, abs=1e-12)
    assert result.ci_low == pytest.approx(23.6, abs=0.05)
    assert result.ci_high == pytest.approx(45.4, abs=0.05)
    # By hand: n' = 203, p' = 110.75/203, d' = 40.75/203, centre = 70/203,
    # V' = 151.5/203 - (70/203)^2, SE' = sqrt(V'/203).
    centre = 70 / 203
    se = math.sqrt((151.5 / 203 - centre**2) / 203)
    assert result.ci_low == pytest.approx(100 * (centre - Z[0.95] * se), abs=1e-9)
    assert result.ci_high == pytest.approx(100 * (centre + Z[0.95] * se), abs=1e-9)
    # Not the plain Wald interval (24.0 to 46.0).
    assert result.ci_low < 23.7
    assert result.ci_high < 45.5
    assert result.effective_n == 200.0
    assert result.suppressed is False


def test_nine_promoters_one_passive() -> None:
    # 9 / 1 / 0 → CI 38.1 to 100; plain NPS 90.
    result = run(answers(9, 1, 0))
    assert result.nps == 90.0
    assert result.ci_low == pytest.approx(38.1, abs=0.05)
    assert result.ci_high == 100.0


def test_all_promoters_interval_does_not_collapse() -> None:
    # 10 / 0 / 0 → CI 47.5 to 100 (plain Wald would be the point 100).
    result = run([10] * 10)
    assert result.nps == 100.0
    assert result.ci_low == pytest.approx(47.5, abs=0.05)
    assert result.ci_high == 100.0


def test_all_detractors_interval_is_clipped_at_minus_100() -> None:
    result = run([0] * 10)
    assert result.nps == -100.0
    assert result.ci_low == -100.0
    assert result.ci_high == pytest.approx(-47.5, abs=0.05)


@pytest.mark.parametrize("weighted", [False, True])
def test_no_answers_gives_nulls(weighted: bool) -> None:
    result = summarise(ClassTotals(), weighted=weighted, confidence=0.95, min_n=1)
    assert result.n == 0
    assert (result.nps, result.ci_low, result.ci_high) == (None, None, None)
    assert (result.promoter_share, result.passive_share, result.detractor_share) == (
        None,
        None,
        None,
    )
    assert result.suppressed is False


def test_unrounded_nps_two_promoters_one_detractor() -> None:
    # 100 · (2 − 1) / 3 = 33.33…, not 67 − 33 = 34.
    result = run([9, 10, 3])
    assert result.nps == float(Fraction(100, 3))
    assert result.nps != 34
    assert result.promoter_share == pytest.approx(2 / 3, abs=1e-15)


def test_example_b_weighted() -> None:
    # Six promoters 0.5, 0.5, 0.5, 0.5, 1, 1; passives 1, 2; detractors 2, 3.
    scores = [9, 10, 9, 10, 9, 10, 7, 8, 0, 6]
    weights = [0.5, 0.5, 0.5, 0.5, 1, 1, 1, 2, 2, 3]
    unweighted = run(scores)
    assert unweighted.nps == 40.0  # 100 · (6 − 2) / 10
    weighted = run(scores, weights)
    # Σw = 12, promoters 4, passives 3, detractors 5 → 100 · (4 − 5) / 12 = −8.333…
    assert weighted.nps == pytest.approx(-100 / 12, abs=1e-12)
    assert weighted.promoter_share == pytest.approx(4 / 12, abs=1e-12)
    assert weighted.passive_share == pytest.approx(3 / 12, abs=1e-12)
    assert weighted.detractor_share == pytest.approx(5 / 12, abs=1e-12)
    # Σw² = 4 · 0.25 + 1 + 1 + 1 + 4 + 4 + 9 = 21, n_eff = 144 / 21 = 6.857…
    assert totals_from(scores, weights).weight_squares == 21
    assert weighted.effective_n == pytest.approx(144 / 21, abs=1e-12)
    assert weighted.n == 10  # counts stay raw counts
    # The interval uses n_eff and n_eff × weighted shares.
    low, high = interval(144 / 21 * 4 / 12, 144 / 21 * 5 / 12, 144 / 21, Z[0.95])
    assert weighted.ci_low == pytest.approx(low, abs=1e-9)
    assert weighted.ci_high == pytest.approx(high, abs=1e-9)
    # And it is wider than the unweighted one of the same n would be.
    assert weighted.ci_high - weighted.ci_low > unweighted.ci_high - unweighted.ci_low


@pytest.mark.parametrize(("score", "sign"), [(0, -1), (10, 1)])
@pytest.mark.parametrize("weight", [82.56338871403571, 0.1, 3.0, 1e-3])
def test_weighted_single_class_stays_on_the_scale(score: int, sign: int, weight: float) -> None:
    # Every answer in one class: the weighted NPS is exactly ±100 (API.md: −100..100 scale).
    result = run([score, score], [weight, weight])
    assert -100.0 <= result.nps <= 100.0
    assert result.nps == sign * 100.0


def test_wider_interval_at_higher_confidence() -> None:
    scores = answers(30, 20, 10)
    intervals = {c: run(scores, confidence=c) for c in Z}
    for level, result in intervals.items():
        low, high = interval(30, 10, 60, Z[level])
        assert result.ci_low == pytest.approx(low, abs=1e-9)
        assert result.ci_high == pytest.approx(high, abs=1e-9)
    widths = [intervals[c].ci_high - intervals[c].ci_low for c in (0.90, 0.95, 0.99)]
    assert widths[0] < widths[1] < widths[2]


def test_suppression_boundary() -> None:
    scores = answers(3, 1, 1)  # n = 5
    hidden = run(scores, min_n=6)
    assert hidden.suppressed is True
    assert (hidden.nps, hidden.ci_low, hidden.ci_high) == (None, None, None)
    assert hidden.promoter_share is None
    assert (hidden.n, hidden.promoters, hidden.passives, hidden.detractors) == (5, 3, 1, 1)
    shown = run(scores, min_n=5)
    assert shown.suppressed is False
    assert shown.nps == 40.0


# --------------------------------------------------------------------------------------
# Property tests against the reference
# --------------------------------------------------------------------------------------

score_lists = st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=300)
levels = st.sampled_from(sorted(Z))


@st.composite
def weighted_answers(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    scores = draw(score_lists)
    weights = draw(
        st.lists(
            st.floats(min_value=0.01, max_value=100, allow_nan=False, allow_infinity=False),
            min_size=len(scores),
            max_size=len(scores),
        )
    )
    return scores, weights


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(scores=score_lists, confidence=levels)
def test_unweighted_matches_reference(scores: list[int], confidence: float) -> None:
    result = run(scores, confidence=confidence)
    expected = summary(scores, z=Z[confidence])
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    # Exactly 100·(P − D)/n, correctly rounded: no rounding of shares on the way.
    assert result.nps == float(Fraction(100 * (promoters - detractors), len(scores)))
    assert result.nps == expected["nps"]
    assert result.n == len(scores)
    assert (result.promoters, result.detractors) == (promoters, detractors)
    assert result.passives == len(scores) - promoters - detractors
    for name in ("promoter_share", "passive_share", "detractor_share", "effective_n"):
        assert getattr(result, name) == pytest.approx(expected[name], rel=1e-12, abs=1e-12)
    assert result.ci_low == pytest.approx(expected["ci_low"], abs=1e-9)
    assert result.ci_high == pytest.approx(expected["ci_high"], abs=1e-9)
    assert result.promoter_share + result.passive_share + result.detractor_share == (
        pytest.approx(1.0, abs=1e-12)
    )
    assert -100.0 <= result.ci_low <= result.ci_high <= 100.0
    assert result.suppressed is False


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=weighted_answers(), confidence=levels)
@example(data=([0], [82.56338871403571]), confidence=0.95)  # once gave nps −100.00000000000001
def test_weighted_matches_reference(data: tuple[list[int], list[float]], confidence: float) -> None:
    scores, weights = data
    result = run(scores, weights, confidence=confidence)
    expected = summary(scores, weights, weighted=True, z=Z[confidence])
    assert result.nps == pytest.approx(expected["nps"], abs=1e-9)
    for name in ("promoter_share", "passive_share", "detractor_share"):
        assert getattr(result, name) == pytest.approx(expected[name], abs=1e-12)
    assert result.effective_n == pytest.approx(expected["effective_n"], rel=1e-9)
    assert result.ci_low == pytest.approx(expected["ci_low"], abs=1e-7)
    assert result.ci_high == pytest.approx(expected["ci_high"], abs=1e-7)
    assert result.promoter_share + result.passive_share + result.detractor_share == (
        pytest.approx(1.0, abs=1e-12)
    )
    assert -100.0 <= result.ci_low <= result.ci_high <= 100.0
    assert -100.0 <= result.nps <= 100.0
    # Kish: 1 ≤ n_eff ≤ n.
    assert 1 - 1e-9 <= result.effective_n <= len(scores) * (1 + 1e-12)
    assert result.n == len(scores)


@settings(max_examples=200, deadline=None)
@given(scores=score_lists, weight=st.floats(min_value=0.001, max_value=1000), confidence=levels)
def test_equal_weights_equal_unweighted(
    scores: list[int], weight: float, confidence: float
) -> None:
    weighted = run(scores, [weight] * len(scores), confidence=confidence)
    plain = run(scores, confidence=confidence)
    assert weighted.nps == pytest.approx(plain.nps, abs=1e-9)
    assert weighted.effective_n == pytest.approx(len(scores), rel=1e-9)
    for name in ("promoter_share", "passive_share", "detractor_share"):
        assert getattr(weighted, name) == pytest.approx(getattr(plain, name), abs=1e-12)
    assert weighted.ci_low == pytest.approx(plain.ci_low, abs=1e-7)
    assert weighted.ci_high == pytest.approx(plain.ci_high, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(scores=score_lists, extra=st.integers(min_value=1, max_value=50), weighted=st.booleans())
def test_suppressed_when_fewer_than_min_n(scores: list[int], extra: int, weighted: bool) -> None:
    weights = [2.0] * len(scores) if weighted else None
    hidden = run(scores, weights, min_n=len(scores) + extra)
    assert hidden.suppressed is True
    assert (hidden.nps, hidden.ci_low, hidden.ci_high) == (None, None, None)
    assert (hidden.promoter_share, hidden.passive_share, hidden.detractor_share) == (
        None,
        None,
        None,
    )
    assert hidden.n == len(scores)  # counts are still reported
    shown = run(scores, weights, min_n=len(scores))
    assert shown.suppressed is False
    assert shown.nps is not None
    assert shown.ci_low is not None
    assert shown.ci_high is not None
