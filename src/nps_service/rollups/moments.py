"""Complete-case moment sums: what key drivers need (STATISTICS.md §6), kept additively.

A key-driver model regresses the overall 0-10 score on the four dimension ratings over the
answers that rated all four ("complete cases"). Its correlation matrix follows exactly from
n, Σx and Σxxᵀ of those five variables, and those sums add up across time slots and
segments like the class counts do, so rollups can keep them and drivers are served from
rollups too. Unweighted sums are integers (exact); weighted ones are floats: Σw, Σw·x,
Σw·x·y and Σw² (for Kish's effective n).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from nps_service.survey import METRICS

# The model's variables are the metrics: the overall score (the response variable) first,
# then the four dimension ratings (the predictors).
T = TypeVar("T")
PAIRS = tuple((a, b) for i, a in enumerate(METRICS) for b in METRICS[i:])


@dataclass(frozen=True)
class MomentSum:
    """One additive sum over complete cases; `name` is its rollup column and query label."""

    name: str
    factors: tuple[str, ...]  # variables multiplied together (none: a count or Σw)
    weighted: bool  # each term is multiplied by the answer's weight
    weight_squared: bool = False  # Σw² (with no factors)

    def terms(self, weight: T, variables: Mapping[str, T]) -> list[T]:
        """What one answer's term multiplies, weight first (an empty list: a count)."""
        if self.weight_squared:
            return [weight, weight]
        return ([weight] if self.weighted else []) + [variables[v] for v in self.factors]


def _moment_sums(weighted: bool) -> tuple[MomentSum, ...]:
    prefix = "cc_w" if weighted else "cc"
    sums = [MomentSum(prefix if weighted else "cc_n", (), weighted)]
    sums += [MomentSum(f"{prefix}_sum_{v}", (v,), weighted) for v in METRICS]
    sums += [MomentSum(f"{prefix}_sum_{a}_{b}", (a, b), weighted) for a, b in PAIRS]
    if weighted:
        sums.append(MomentSum("cc_w_squares", (), weighted, weight_squared=True))
    return tuple(sums)


PLAIN_MOMENTS = _moment_sums(weighted=False)
WEIGHTED_MOMENTS = _moment_sums(weighted=True)
MOMENTS = (*PLAIN_MOMENTS, *WEIGHTED_MOMENTS)


def moment_sums(weighted: bool) -> tuple[MomentSum, ...]:
    """The sums a query reads: the exact integer ones, plus the weighted ones if asked."""
    return MOMENTS if weighted else PLAIN_MOMENTS
