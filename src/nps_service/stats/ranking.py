"""Merchant governance figures: a composite experience score and a rank's percentile."""

from collections.abc import Mapping


def composite(
    nps_by_dimension: Mapping[str, float | None], weights: Mapping[str, float]
) -> float | None:
    """Weighted mean of the dimensions' NPS, over the dimensions that have one."""
    present = [
        (weight, nps_by_dimension[name])
        for name, weight in weights.items()
        if weight > 0 and nps_by_dimension[name] is not None
    ]
    total = sum(weight for weight, _ in present)
    if total <= 0:
        return None
    return sum(weight * value for weight, value in present if value is not None) / total


def percentile(position: int | None, of: int) -> float | None:
    """100 for the best of `of`, 0 for the worst, evenly between; None without a rank."""
    if position is None:
        return None
    return 100.0 * (of - position) / (of - 1) if of > 1 else 100.0
