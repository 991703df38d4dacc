"""Is a change real? Two independent samples per metric, Holm across groups (STATISTICS.md §4)."""

import math
from typing import Any

import numpy as np

from nps_service.stats.nps import adjusted_wald

# The fields of one metric's comparison, after `current` and `baseline`.
COMPARISON_FIELDS = ("delta", "delta_ci_low", "delta_ci_high", "z", "p_value")


def compare_many(
    current: list[dict[str, Any]], baseline: list[dict[str, Any]], z: float
) -> list[dict[str, Any]]:
    """Two independent samples per row (STATISTICS.md §4), from two `summarise_many` rows.

    `delta` is the difference of the plain NPS values (points); z, p and the interval use
    the adjusted-Wald centres and standard errors. Null when either side has no NPS (no
    answers, or suppressed).
    """
    sides = []
    for summaries in (current, baseline):
        valid = np.array([row["nps"] is not None for row in summaries], dtype=bool)
        effective_n = np.array([row["effective_n"] for row in summaries], dtype=np.float64)
        shares = [
            np.array([row[name] or 0.0 for row in summaries], dtype=np.float64)
            for name in ("promoter_share", "detractor_share")
        ]
        centre, se = adjusted_wald(effective_n * shares[0], effective_n * shares[1], effective_n)
        sides.append((valid, centre, se))
    (valid_now, centre_now, se_now), (valid_then, centre_then, se_then) = sides
    valid = valid_now & valid_then
    difference = centre_now - centre_then
    se = np.sqrt(se_now * se_now + se_then * se_then)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_scores = difference / se
    results = []
    for index, (now, then) in enumerate(zip(current, baseline, strict=True)):
        if not valid[index]:
            results.append(dict.fromkeys(COMPARISON_FIELDS))
            continue
        z_score = float(z_scores[index])
        results.append(
            {
                "delta": now["nps"] - then["nps"],
                "delta_ci_low": 100.0 * float(difference[index] - z * se[index]),
                "delta_ci_high": 100.0 * float(difference[index] + z * se[index]),
                "z": z_score,
                # 2·(1 − Φ(|z|)), without the cancellation for large |z|.
                "p_value": math.erfc(abs(z_score) / math.sqrt(2.0)),
            }
        )
    return results


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment over the p-values present (None stays None)."""
    ranked = sorted((p, index) for index, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(ranked):
        running = max(running, min(1.0, (len(ranked) - rank) * p))
        adjusted[index] = running
    return adjusted
