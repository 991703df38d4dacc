"""NPS statistics as pure functions over counts (STATISTICS.md §1-3). No I/O here."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

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


def summarise(totals: ClassTotals, *, weighted: bool, confidence: float, min_n: int) -> MetricStats:
    """NPS, shares and interval for one metric; null statistics when n = 0 or suppressed."""
    (values,) = summarise_many(
        np.array([[totals.promoters, totals.passives, totals.detractors]], dtype=np.int64),
        np.array(
            [[totals.weight_promoters, totals.weight_passives, totals.weight_detractors]],
            dtype=np.float64,
        ),
        np.array([totals.weight_squares], dtype=np.float64),
        weighted=weighted,
        z=z_for(confidence),
        min_n=min_n,
    )
    return MetricStats(**values)


# The fields of every metric in a response, in order (MetricStats' fields).
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


@dataclass(frozen=True)
class MetricColumns:
    """SUMMARY_FIELDS of one metric for many groups, a numpy column per field.

    `valid` marks the rows whose shares, NPS and interval exist (n > 0, not suppressed);
    elsewhere those columns hold NaN and read as null.
    """

    n: npt.NDArray[np.int64]
    promoters: npt.NDArray[np.int64]
    passives: npt.NDArray[np.int64]
    detractors: npt.NDArray[np.int64]
    promoter_share: npt.NDArray[np.float64]
    passive_share: npt.NDArray[np.float64]
    detractor_share: npt.NDArray[np.float64]
    nps: npt.NDArray[np.float64]
    ci_low: npt.NDArray[np.float64]
    ci_high: npt.NDArray[np.float64]
    effective_n: npt.NDArray[np.float64]
    suppressed: npt.NDArray[np.bool_]
    valid: npt.NDArray[np.bool_]

    def rows(self, order: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """One dict of SUMMARY_FIELDS per group (in `order` when given); null for NaN."""
        pick = slice(None) if order is None else np.asarray(order, dtype=np.intp)
        valid = self.valid[pick]
        columns = [getattr(self, name)[pick] for name in SUMMARY_FIELDS]
        values = [
            _or_null(column, valid) if name in NULLABLE_FIELDS else column.tolist()
            for name, column in zip(SUMMARY_FIELDS, columns, strict=True)
        ]
        return [dict(zip(SUMMARY_FIELDS, row)) for row in zip(*values)]  # noqa: B905


# Fields that are null when a metric has no answers or is suppressed.
NULLABLE_FIELDS = frozenset(
    ("promoter_share", "passive_share", "detractor_share", "nps", "ci_low", "ci_high")
)


def summarise_many(
    counts: npt.NDArray[np.int64],
    class_weights: npt.NDArray[np.float64],
    weight_squares: npt.NDArray[np.float64],
    *,
    weighted: bool,
    z: float,
    min_n: int,
) -> list[dict[str, Any]]:
    """`summarise` for many groups at once: one dict of SUMMARY_FIELDS per row."""
    return summarise_columns(
        counts, class_weights, weight_squares, weighted=weighted, z=z, min_n=min_n
    ).rows()


def summarise_columns(
    counts: npt.NDArray[np.int64],
    class_weights: npt.NDArray[np.float64],
    weight_squares: npt.NDArray[np.float64],
    *,
    weighted: bool,
    z: float,
    min_n: int,
) -> MetricColumns:
    """`summarise` for many groups at once, column by column.

    `counts` and `class_weights` hold promoters, passives, detractors per row (weights are
    read only when `weighted`). A score response can hold thousands of groups x 5 metrics,
    so the arithmetic runs on arrays; it performs the same IEEE operations in the same
    order as the formulas in STATISTICS.md, so results equal a one-at-a-time computation.
    """
    promoters, passives, detractors = counts[:, 0], counts[:, 1], counts[:, 2]
    n = promoters + passives + detractors
    suppressed = (n > 0) & (n < min_n)
    if weighted:
        parts = class_weights[:, 0], class_weights[:, 1], class_weights[:, 2]
        total = parts[0] + parts[1] + parts[2]
        with np.errstate(divide="ignore", invalid="ignore"):
            effective_n = np.where(weight_squares > 0, total * total / weight_squares, 0.0)
    else:
        parts = (
            promoters.astype(np.float64),
            passives.astype(np.float64),
            detractors.astype(np.float64),
        )
        total = n.astype(np.float64)
        effective_n = total
    valid = (n != 0) & ~suppressed & (total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = [part / total for part in parts]
        if weighted:
            # Divide before scaling: (100·x)/x can round to 100.00000000000001.
            nps = np.clip(100.0 * ((parts[0] - parts[2]) / total), -100.0, 100.0)
        else:
            # Exact integer difference first: 100·(P−D)/n, no share rounding.
            nps = 100.0 * (promoters - detractors) / n
        low, high = _adjusted_wald_bounds(
            effective_n * shares[0], effective_n * shares[2], effective_n, z
        )
    invalid = ~valid

    def nullable(column: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.where(invalid, np.nan, column)

    return MetricColumns(
        n=n,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        promoter_share=nullable(shares[0]),
        passive_share=nullable(shares[1]),
        detractor_share=nullable(shares[2]),
        nps=nullable(nps),
        ci_low=nullable(100.0 * low),
        ci_high=nullable(100.0 * high),
        effective_n=effective_n,
        suppressed=suppressed,
        valid=valid,
    )


def _or_null(column: npt.NDArray[np.float64], valid: npt.NDArray[np.bool_]) -> list[Any]:
    """Python floats where `valid`, None elsewhere."""
    values = column.astype(object)
    values[~valid] = None
    return list(values.tolist())


def adjusted_wald(
    promoters: npt.NDArray[np.float64],
    detractors: npt.NDArray[np.float64],
    n: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Rocks' adjusted-Wald centre and standard error on the -1..1 scale (STATISTICS.md §2).

    Counts may be fractional (weighted: n_eff × weighted share).
    """
    n_adj = n + PSEUDO_TOTAL
    p = (promoters + PSEUDO_PROMOTERS) / n_adj
    d = (detractors + PSEUDO_DETRACTORS) / n_adj
    centre = p - d
    return centre, np.sqrt(np.maximum(p + d - centre * centre, 0.0) / n_adj)


def _adjusted_wald_bounds(
    promoters: npt.NDArray[np.float64],
    detractors: npt.NDArray[np.float64],
    n: npt.NDArray[np.float64],
    z: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The adjusted-Wald interval on the -1..1 scale."""
    centre, se = adjusted_wald(promoters, detractors, n)
    return np.maximum(-1.0, centre - z * se), np.minimum(1.0, centre + z * se)
