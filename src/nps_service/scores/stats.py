"""NPS statistics as pure functions over counts (STATISTICS.md §1-3). No I/O here."""

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any

# Rocks (2016) adjusted Wald: pseudo-counts of 3/4 promoter, 3/2 passive, 3/4 detractor.
PSEUDO_PROMOTERS = 0.75
PSEUDO_DETRACTORS = 0.75
PSEUDO_TOTAL = 3.0


@dataclass(frozen=True)
class ClassTotals:
    """Additive sums for one metric over one group: counts and weight sums per class."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    weight_promoters: float = 0.0
    weight_passives: float = 0.0
    weight_detractors: float = 0.0
    weight_squares: float = 0.0  # Σw² over every rated response

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def weight_total(self) -> float:
        return self.weight_promoters + self.weight_passives + self.weight_detractors


@dataclass(frozen=True)
class MetricStats:
    """Everything the API reports for one metric of one group."""

    n: int
    promoters: int
    passives: int
    detractors: int
    promoter_share: float | None
    passive_share: float | None
    detractor_share: float | None
    nps: float | None
    ci_low: float | None
    ci_high: float | None
    effective_n: float
    suppressed: bool


def classify(score: int) -> int:
    """+1 promoter (9-10), 0 passive (7-8), -1 detractor (0-6)."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS answer is an integer 0-10, got {score}")
    return 1 if score >= 9 else 0 if score >= 7 else -1


@lru_cache(maxsize=64)
def z_for(confidence: float) -> float:
    """Two-sided normal quantile: 1.959964 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be strictly between 0 and 1")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def adjusted_wald(
    promoters: float, detractors: float, n: float, z: float
) -> tuple[float, float, float, float]:
    """Adjusted-Wald centre, standard error and interval on the -1..1 scale.

    Counts may be fractional (weighted: n_eff × weighted share).
    """
    n_adj = n + PSEUDO_TOTAL
    p = (promoters + PSEUDO_PROMOTERS) / n_adj
    d = (detractors + PSEUDO_DETRACTORS) / n_adj
    centre = p - d
    variance = max(p + d - centre * centre, 0.0)
    se = math.sqrt(variance / n_adj)
    return centre, se, max(-1.0, centre - z * se), min(1.0, centre + z * se)


def kish_effective_n(weight_total: float, weight_squares: float) -> float:
    """(Σw)² / Σw²; 0 when there is nothing."""
    return weight_total * weight_total / weight_squares if weight_squares > 0 else 0.0


def summarise(totals: ClassTotals, *, weighted: bool, confidence: float, min_n: int) -> MetricStats:
    """NPS, shares and interval for one metric; null statistics when n = 0 or suppressed."""
    return MetricStats(
        *summary_values(
            totals.promoters,
            totals.passives,
            totals.detractors,
            (totals.weight_promoters, totals.weight_passives, totals.weight_detractors),
            totals.weight_squares,
            weighted=weighted,
            z=z_for(confidence),
            min_n=min_n,
        )
    )


# The order of summary_values' result (and of MetricStats' fields).
SUMMARY_FIELDS = (
    "n",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "nps",
    "ci_low",
    "ci_high",
    "effective_n",
    "suppressed",
)


def summary_values(
    promoters: int,
    passives: int,
    detractors: int,
    class_weights: tuple[float, float, float],
    weight_squares: float,
    *,
    weighted: bool,
    z: float,
    min_n: int,
) -> tuple[Any, ...]:
    """`summarise` on plain numbers, as a tuple in SUMMARY_FIELDS order.

    The scores endpoint calls this thousands of times per request: no objects on the way.
    """
    n = promoters + passives + detractors
    suppressed = 0 < n < min_n
    if weighted:
        total = class_weights[0] + class_weights[1] + class_weights[2]
        effective_n = kish_effective_n(total, weight_squares)
        parts = class_weights
    else:
        total = float(n)
        effective_n = float(n)
        parts = (float(promoters), float(passives), float(detractors))
    if n == 0 or suppressed or total <= 0:
        return (n, promoters, passives, detractors, *_NO_STATISTICS, effective_n, suppressed)
    promoter_share, passive_share, detractor_share = (part / total for part in parts)
    if weighted:
        # Divide before scaling: (100·x)/x can round to 100.00000000000001.
        nps = max(-100.0, min(100.0, 100.0 * ((parts[0] - parts[2]) / total)))
    else:
        # Exact integer difference first: 100·(P−D)/n, no share rounding.
        nps = 100.0 * (promoters - detractors) / n
    _, _, low, high = adjusted_wald(
        effective_n * promoter_share, effective_n * detractor_share, effective_n, z
    )
    return (
        n,
        promoters,
        passives,
        detractors,
        promoter_share,
        passive_share,
        detractor_share,
        nps,
        100.0 * low,
        100.0 * high,
        effective_n,
        False,
    )


_NO_STATISTICS = (None,) * 6  # shares, nps and interval
assert tuple(MetricStats.__dataclass_fields__) == SUMMARY_FIELDS
