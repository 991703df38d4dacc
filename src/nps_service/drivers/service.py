"""Key drivers per group, from the same totals as the scores (plus the moment sums)."""

from collections.abc import Mapping
from typing import Any

from nps_service.drivers.schemas import DriversQuery
from nps_service.filters import ResponseFilter
from nps_service.rollups import TotalsEngine
from nps_service.scores.params import ScoreOptions
from nps_service.scores.service import group_order, query_echo, score_columns, totals_for
from nps_service.stats.drivers import (
    DriverModel,
    complete_cases,
    fit,
    priority_order,
    priority_score,
)
from nps_service.stats.nps import z_for
from nps_service.survey import DIMENSIONS


def compute_drivers(
    engine: TotalsEngine, scope: ResponseFilter, options: ScoreOptions
) -> dict[str, Any]:
    """One model per group: the body in the shape of `DriversOut`."""
    totals = totals_for(engine, scope, options, moments=True)
    z = z_for(options.confidence)
    scored = score_columns(totals, options).with_bucket_starts(options.interval, scope)
    order = group_order(scored, options)  # by key: the router allows no other order
    if options.limit is not None:
        order = order[: options.limit]
    groups = [
        _group(totals.moments[i], scores, options, z)
        for i, scores in zip(order, scored.rows(order), strict=True)
    ]
    query = query_echo(
        DriversQuery,
        scope,
        options,
        interval=options.interval.value if options.interval else None,
    )
    return {"query": query, "groups": groups}


def _group(
    moments: Mapping[str, int | float], scores: dict[str, Any], options: ScoreOptions, z: float
) -> dict[str, Any]:
    cases = complete_cases(moments, options.weighted)
    suppressed = 0 < cases.n < options.min_n
    reason: str | None
    if suppressed:
        model = None
        reason = f"suppressed: {cases.n} complete cases, fewer than min_n = {options.min_n}"
    else:
        model = fit(cases, z)
        reason = model.reason
    dimensions = {d: _dimension(cases.n, model, d, scores["dimensions"][d]) for d in DIMENSIONS}
    ranked = {
        d: (body["priority_score"], body["relative_weight_share"])
        for d, body in dimensions.items()
        if body["priority_score"] is not None
    }
    order = priority_order(ranked)
    for position, name in enumerate(order, start=1):
        dimensions[name]["priority"] = position
    return {
        "key": scores["key"],
        "n": cases.n,
        "effective_n": cases.effective_n,
        "suppressed": suppressed,
        "fitted": model is not None and model.fitted,
        "reason": reason,
        "r_squared": model.r_squared if model else None,
        "overall_mean": model.overall_mean if model else None,
        "overall": scores["overall"],
        "dimensions": dimensions,
        "priority": order,
        "partial": scores.get("partial"),
    }


def _dimension(
    n: int, model: DriverModel | None, name: str, score: dict[str, Any]
) -> dict[str, Any]:
    driver = model.drivers[name] if model else None
    share = driver.relative_weight_share if driver else None
    interval = driver.correlation_ci if driver else None
    return {
        "n": n,
        "mean": driver.mean if driver else None,
        "correlation": driver.correlation if driver else None,
        "correlation_ci_low": interval[0] if interval else None,
        "correlation_ci_high": interval[1] if interval else None,
        "standardized_beta": driver.standardized_beta if driver else None,
        "relative_weight": driver.relative_weight if driver else None,
        "relative_weight_share": share,
        "nps": score["nps"],
        "score": score,
        "priority_score": priority_score(share, score["nps"]),
        "priority": None,
    }
