"""Is a series rising or falling? Weighted least squares over buckets (STATISTICS.md §7)."""

import math
from typing import Any

import numpy as np

from nps_service.stats.nps import adjusted_wald

# The fields of one metric's trend.
TREND_FIELDS = (
    "buckets",
    "slope",
    "slope_se",
    "slope_ci_low",
    "slope_ci_high",
    "z",
    "p_value",
    "significant",
)


def weighted_trend(
    positions: list[float], values: list[float], standard_errors: list[float], z: float
) -> dict[str, Any]:
    """Weighted least-squares slope of `values` over `positions` (weights 1/SE²).

    Returns TREND_FIELDS; the statistics are null with fewer than two points or when the
    points do not spread over time. `significant` means the interval excludes zero.
    """
    points = [
        (x, y, 1.0 / (se * se))
        for x, y, se in zip(positions, values, standard_errors, strict=True)
        if se > 0
    ]
    result: dict[str, Any] = dict.fromkeys(TREND_FIELDS)
    result["buckets"] = len(points)
    total = sum(w for _, _, w in points)
    if len(points) < 2 or total <= 0:
        return result
    x_mean = sum(w * x for x, _, w in points) / total
    y_mean = sum(w * y for _, y, w in points) / total
    spread = sum(w * (x - x_mean) ** 2 for x, _, w in points)
    if spread <= 0:
        return result
    slope = sum(w * (x - x_mean) * (y - y_mean) for x, y, w in points) / spread
    se = math.sqrt(1.0 / spread)
    z_score = slope / se
    result.update(
        slope=slope,
        slope_se=se,
        slope_ci_low=slope - z * se,
        slope_ci_high=slope + z * se,
        z=z_score,
        p_value=math.erfc(abs(z_score) / math.sqrt(2.0)),
        significant=abs(z_score) > z,
    )
    return result


def bucket_trend(positions: list[float], rows: list[dict[str, Any]], z: float) -> dict[str, Any]:
    """The trend of one metric over its buckets' summaries (`summarise_many` rows).

    Buckets with an NPS (answers, not suppressed) weigh by 1/SE² of their adjusted-Wald
    estimate, SE in points.
    """
    used = [(x, row) for x, row in zip(positions, rows, strict=True) if row["nps"] is not None]
    effective_n = np.array([row["effective_n"] for _, row in used], dtype=np.float64)
    promoters = effective_n * np.array([row["promoter_share"] for _, row in used])
    detractors = effective_n * np.array([row["detractor_share"] for _, row in used])
    _, se = adjusted_wald(promoters, detractors, effective_n)
    return weighted_trend(
        [x for x, _ in used], [row["nps"] for _, row in used], (100.0 * se).tolist(), z
    )
