"""Key drivers from complete-case moment sums (STATISTICS.md §6). Pure functions, no I/O.

The overall 0-10 score is regressed on the four dimension ratings over the answers that
rated all four. Everything follows from additive sums (n or Σw, Σx, Σxxᵀ), so rollups can
answer: the centred cross-products are S_ab = n·Σab − Σa·Σb (exact integers when
unweighted), the correlations r_ab = S_ab / √(S_aa·S_bb), and Johnson's (2000) relative
weights come from the predictors' correlation matrix R_xx = VΛVᵀ:
Λ* = VΛ^½Vᵀ, β* = Λ*⁻¹ r_xy, ε_j = Σ_k (Λ*_jk)² β*_k², with Σ ε_j = R².
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nps_service.survey import DIMENSIONS, METRICS

# The model's variables are the metrics: the overall score (the response variable) and the
# four dimension ratings (its predictors).
# Below this relative size a variance, or an eigenvalue of R_xx, is rounding noise.
_TOLERANCE = 1e-10


@dataclass(frozen=True)
class CompleteCases:
    """Additive sums over the answers that rated every dimension (weighted or not)."""

    n: int  # how many answers
    total: float  # n, or Σw
    sums: Mapping[str, float]  # Σx (or Σw·x) per variable
    cross: Mapping[tuple[str, str], float]  # Σxy (or Σw·x·y) per pair, a before b
    effective_n: float  # n, or Kish's (Σw)²/Σw²
    weighted: bool  # float sums (else exact integers)


def complete_cases(sums: Mapping[str, Any], weighted: bool) -> CompleteCases:
    """Read the moment sums of one group, named `cc_n`, `cc_sum_<v>`, `cc_sum_<a>_<b>` and, for
    weighted sums, `cc_w`, `cc_w_sum_...` and `cc_w_squares`."""
    n = int(sums["cc_n"])
    prefix = "cc_w" if weighted else "cc"
    # Unweighted sums stay Python integers, so the centred products below are exact.
    read = float if weighted else int
    total = read(sums["cc_w"]) if weighted else n
    values = {v: read(sums[f"{prefix}_sum_{v}"]) for v in METRICS}
    cross = {
        (a, b): read(sums[f"{prefix}_sum_{a}_{b}"])
        for i, a in enumerate(METRICS)
        for b in METRICS[i:]
    }
    effective_n = float(n)
    if weighted:
        squares = float(sums["cc_w_squares"])
        effective_n = total * total / squares if squares > 0 else 0.0
    return CompleteCases(n, total, values, cross, effective_n, weighted)


@dataclass(frozen=True)
class Driver:
    """One dimension in the model."""

    mean: float | None  # mean rating over the complete cases
    correlation: float | None  # with the overall score; None if either does not vary
    correlation_ci: tuple[float, float] | None  # Fisher z interval
    standardized_beta: float | None
    relative_weight: float | None  # ε_j: its part of R²
    relative_weight_share: float | None  # ε_j / R²


@dataclass(frozen=True)
class DriverModel:
    fitted: bool
    reason: str | None  # why the model was not fitted
    r_squared: float | None
    overall_mean: float | None
    drivers: dict[str, Driver]


def fit(cases: CompleteCases, z: float) -> DriverModel:
    """Correlations, standardized betas and Johnson's relative weights of one group."""
    if cases.n == 0:
        return _unfitted(cases, {}, z, "no answer in scope rated all four dimensions")
    centred = _centred(cases)
    varies = {v: _varies(cases, centred, v) for v in METRICS}
    correlation = _correlations(centred, varies)
    if not varies["overall"]:
        reason = "the overall score is the same in every complete case"
        return _unfitted(cases, correlation, z, reason)
    moving = [d for d in DIMENSIONS if varies[d]]
    if not moving:
        reason = "no dimension rating varies among the complete cases"
        return _unfitted(cases, correlation, z, reason)
    if cases.n < len(moving) + 2:
        reason = (
            f"{cases.n} complete cases are too few for {len(moving)} varying dimensions "
            f"(at least {len(moving) + 2} are needed)"
        )
        return _unfitted(cases, correlation, z, reason)
    r_xx = np.array([[correlation[a, b] for b in moving] for a in moving], dtype=np.float64)
    r_xy = np.array([correlation[d, "overall"] for d in moving], dtype=np.float64)
    weights, betas = _johnson(r_xx, r_xy)
    r_squared = min(float(weights.sum()), 1.0)
    fitted = dict(zip(moving, zip(weights.tolist(), betas.tolist(), strict=True), strict=True))
    # A dimension that does not vary explains nothing: its weight is exactly 0.
    found = {d: fitted.get(d, (0.0, None)) for d in DIMENSIONS}
    drivers = _drivers(cases, correlation, z, found, r_squared)
    return DriverModel(True, None, r_squared, cases.sums["overall"] / cases.total, drivers)


def _unfitted(
    cases: CompleteCases, correlation: Mapping[tuple[str, str], float], z: float, reason: str
) -> DriverModel:
    """No model: means and correlations where they exist, nothing that needs the fit."""
    mean = cases.sums["overall"] / cases.total if cases.total else None
    return DriverModel(False, reason, None, mean, _drivers(cases, correlation, z, {}, None))


def _drivers(
    cases: CompleteCases,
    correlation: Mapping[tuple[str, str], float],
    z: float,
    found: Mapping[str, tuple[float, float | None]],
    r_squared: float | None,
) -> dict[str, Driver]:
    """Each dimension's figures; `found` holds (relative weight, beta) when fitted."""
    drivers = {}
    for d in DIMENSIONS:
        weight, beta = found.get(d, (None, None))
        r = correlation.get((d, "overall"))
        drivers[d] = Driver(
            mean=cases.sums[d] / cases.total if cases.total else None,
            correlation=r,
            correlation_ci=_fisher_interval(r, cases.effective_n, z),
            standardized_beta=beta,
            relative_weight=weight,
            relative_weight_share=None if weight is None or not r_squared else weight / r_squared,
        )
    return drivers


def _centred(cases: CompleteCases) -> dict[tuple[str, str], float]:
    """S_ab = total·Σab − Σa·Σb for every pair, both orders."""
    centred = {}
    for (a, b), cross in cases.cross.items():
        value = cases.total * cross - cases.sums[a] * cases.sums[b]
        centred[a, b] = centred[b, a] = value
    return centred


def _varies(cases: CompleteCases, centred: Mapping[tuple[str, str], float], v: str) -> bool:
    """Exactly for integer sums; float sums leave rounding noise around zero."""
    if not cases.weighted:
        return centred[v, v] > 0
    return centred[v, v] > _TOLERANCE * cases.total * cases.cross[v, v]


def _correlations(
    centred: Mapping[tuple[str, str], float], varies: Mapping[str, bool]
) -> dict[tuple[str, str], float]:
    """Pearson r of every pair of varying variables, both orders."""
    result = {}
    for a in METRICS:
        for b in METRICS:
            if varies[a] and varies[b]:
                r = float(centred[a, b]) / math.sqrt(float(centred[a, a]) * float(centred[b, b]))
                result[a, b] = max(-1.0, min(1.0, r))
    return result


def _johnson(r_xx: np.ndarray[Any, Any], r_xy: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    """Relative weights ε and standardized betas for one correlation matrix.

    Perfectly collinear predictors make R_xx singular; its zero eigenvalues are dropped
    (a pseudo-inverse), which shares the weight equally between identical predictors.
    """
    eigenvalues, vectors = np.linalg.eigh(r_xx)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    keep = eigenvalues > _TOLERANCE * eigenvalues.max()
    roots = np.sqrt(eigenvalues)
    lam_star = vectors @ np.diag(roots) @ vectors.T
    inverse_root = vectors[:, keep] @ np.diag(1.0 / roots[keep]) @ vectors[:, keep].T
    beta_star = inverse_root @ r_xy
    weights = (lam_star**2) @ (beta_star**2)
    inverse = vectors[:, keep] @ np.diag(1.0 / eigenvalues[keep]) @ vectors[:, keep].T
    return weights, inverse @ r_xy


def _fisher_interval(r: float | None, effective_n: float, z: float) -> tuple[float, float] | None:
    """tanh(atanh(r) ± z/√(n − 3)); None without r or with n ≤ 3."""
    if r is None or effective_n <= 3:
        return None
    if abs(r) >= 1.0:
        return (r, r)
    centre, half = math.atanh(r), z / math.sqrt(effective_n - 3)
    return (math.tanh(centre - half), math.tanh(centre + half))


def priority_score(share: float | None, nps: float | None) -> float | None:
    """Importance times room to improve: share of R² × (100 − NPS) / 200, in 0..1."""
    if share is None or nps is None:
        return None
    return share * (100.0 - nps) / 200.0


def priority_order(scores: Mapping[str, tuple[float, float]]) -> list[str]:
    """Dimensions by (priority score, share), highest first; ties in dimension order."""
    return sorted(scores, key=lambda d: (-scores[d][0], -scores[d][1], DIMENSIONS.index(d)))
