"""One independent reference for the statistics the tests check the service against.

Written from STATISTICS.md, not from the code under test: plain Python over raw 0-10
ratings (not the service's sums), published normal quantiles instead of an inverse CDF,
exact fractions where the formula allows. Each function is checked against the worked
examples of STATISTICS.md in `tests/stats/test_reference.py` before it judges anything.
"""

import math
from collections.abc import Sequence
from fractions import Fraction
from statistics import NormalDist
from typing import Any

import numpy as np

# Two-sided normal quantiles Φ⁻¹(1 − α/2), from published tables (15+ significant digits).
Z = {
    0.5: 0.6744897501960817,
    0.90: 1.6448536269514722,
    0.95: 1.959963984540054,
    0.99: 2.5758293035489004,
}
Z95 = Z[0.95]
# Pseudo-counts of Rocks' (2016) adjusted Wald interval.
PSEUDO_PROMOTERS, PSEUDO_DETRACTORS, PSEUDO_TOTAL = 0.75, 0.75, 3.0


def example_b() -> tuple[list[int], list[float]]:
    """STATISTICS.md example B: six promoters, two passives, two detractors, weighted."""
    ratings = [10, 9, 10, 9, 10, 9, 8, 7, 3, 0]
    weights = [0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0]
    return ratings, weights


def classify(score: int) -> int:
    """+1 promoter (9-10), 0 passive (7-8), -1 detractor (0-6)."""
    if score in (9, 10):
        return 1
    if score in (7, 8):
        return 0
    if score in (0, 1, 2, 3, 4, 5, 6):
        return -1
    raise AssertionError(score)


def nps(ratings: Sequence[int]) -> float:
    """100 · (promoters − detractors) / n, exactly."""
    classes = [classify(r) for r in ratings]
    return float(Fraction(100 * (classes.count(1) - classes.count(-1)), len(classes)))


def centre_se(promoters: float, detractors: float, n: float) -> tuple[float, float]:
    """Adjusted-Wald centre and standard error on the -1..1 scale (STATISTICS.md §2)."""
    n_adj = n + PSEUDO_TOTAL
    p = (promoters + PSEUDO_PROMOTERS) / n_adj
    d = (detractors + PSEUDO_DETRACTORS) / n_adj
    return p - d, math.sqrt((p + d - (p - d) ** 2) / n_adj)


def interval(promoters: float, detractors: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The adjusted-Wald interval in points, clipped to -100..100."""
    centre, se = centre_se(promoters, detractors, n)
    return 100 * max(-1.0, centre - z * se), 100 * min(1.0, centre + z * se)


def ci_low(ratings: Sequence[int], z: float = Z95) -> float:
    """The lower bound of the adjusted-Wald interval of some ratings, in points."""
    classes = [classify(r) for r in ratings]
    return interval(classes.count(1), classes.count(-1), len(classes), z)[0]


def summary(
    ratings: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    weighted: bool = False,
    z: float = Z95,
) -> dict[str, Any]:
    """n, class counts, shares, NPS, effective n and interval of some 0-10 ratings.

    Unweighted unless `weighted`; statistics are null when there is no rating.
    """
    classes = [classify(r) for r in ratings]
    n = len(classes)
    result: dict[str, Any] = {
        "n": n,
        "promoters": classes.count(1),
        "passives": classes.count(0),
        "detractors": classes.count(-1),
    }
    if n == 0:
        nulls = ("promoter_share", "passive_share", "detractor_share", "nps", "ci_low", "ci_high")
        return {**result, **dict.fromkeys(nulls), "effective_n": 0.0}
    if weighted:
        assert weights is not None
        total = math.fsum(weights)
        by_class = {
            c: math.fsum(w for k, w in zip(classes, weights, strict=True) if k == c)
            for c in (1, 0, -1)
        }
        shares = (by_class[1] / total, by_class[0] / total, by_class[-1] / total)
        value = 100 * math.fsum(k * w for k, w in zip(classes, weights, strict=True)) / total
        effective_n = total**2 / math.fsum(w * w for w in weights)
    else:
        shares = (classes.count(1) / n, classes.count(0) / n, classes.count(-1) / n)
        value = nps(ratings)
        effective_n = float(n)
    low, high = interval(effective_n * shares[0], effective_n * shares[2], effective_n, z)
    return {
        **result,
        "promoter_share": shares[0],
        "passive_share": shares[1],
        "detractor_share": shares[2],
        "nps": value,
        "ci_low": low,
        "ci_high": high,
        "effective_n": effective_n,
    }


def compare(
    now: tuple[int, int, int], then: tuple[int, int, int], z: float = Z95
) -> dict[str, float]:
    """STATISTICS.md §4 for unweighted counts (promoters, passives, detractors)."""
    (c1, se1), (c2, se2) = (centre_se(p, d, p + pa + d) for p, pa, d in (now, then))
    se = math.sqrt(se1**2 + se2**2)
    z_score = (c1 - c2) / se
    plain = [100 * (p - d) / (p + pa + d) for p, pa, d in (now, then)]
    return {
        "delta": plain[0] - plain[1],
        "z": z_score,
        "p_value": 2 * (1 - NormalDist().cdf(abs(z_score))),
        "delta_ci_low": 100 * (c1 - c2 - z * se),
        "delta_ci_high": 100 * (c1 - c2 + z * se),
    }


def trend(points: Sequence[tuple[float, tuple[int, int, int]]]) -> dict[str, float]:
    """Weighted least squares of bucket NPS over position, weights 1/SE² (numpy.polyfit)."""
    x, y, w = [], [], []
    for position, (p, pa, d) in points:
        _, se = centre_se(p, d, p + pa + d)
        x.append(position)
        y.append(100 * (p - d) / (p + pa + d))
        w.append(1 / (100 * se) ** 2)
    slope = float(np.polyfit(x, y, 1, w=np.sqrt(w))[0])
    x_bar = np.average(x, weights=w)
    se = 1 / math.sqrt(sum(wi * (xi - x_bar) ** 2 for xi, wi in zip(x, w, strict=True)))
    z_score = slope / se
    return {
        "slope": slope,
        "slope_se": se,
        "z": z_score,
        "p_value": 2 * (1 - NormalDist().cdf(abs(z_score))),
    }
