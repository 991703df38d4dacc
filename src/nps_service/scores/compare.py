"""GET /v1/scores/compare: the current period against a baseline, per group and metric."""

from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from nps_service.filters import ResponseFilter
from nps_service.rollups import TotalsEngine
from nps_service.scores.params import ScoreOptions
from nps_service.scores.schemas import CompareQuery
from nps_service.scores.service import (
    key_order_tuple,
    metric_of,
    query_echo,
    score_groups,
    totals_for,
)
from nps_service.stats.compare import compare_many, holm
from nps_service.stats.nps import summarise_many, z_for
from nps_service.survey import DIMENSIONS, METRICS


def compute_comparison(
    engine: TotalsEngine,
    scope: ResponseFilter,
    baseline: tuple[datetime, datetime],
    options: ScoreOptions,
) -> dict[str, Any]:
    """Both periods from the rollups, matched by group key; a group missing on one side
    compares against an empty sample (n = 0, so its delta and p-value are null)."""
    baseline_scope = replace(scope, start=baseline[0], end=baseline[1])
    periods = []
    for period in (scope, baseline_scope):
        totals = totals_for(engine, period, options, interval=False)
        periods.append(
            {_key(group["key"], options): group for group in score_groups(totals, options)}
        )
    current, previous = periods
    keys = sorted(
        set(current) | set(previous),
        key=lambda key: key_order_tuple(
            dict(zip(options.group_by, key, strict=True)), options.group_by
        ),
    )
    if options.limit is not None:
        keys = keys[: options.limit]
    empty = _empty_metric(options)
    z = z_for(options.confidence)
    per_metric: dict[str, list[dict[str, Any]]] = {}
    for metric in METRICS:
        now = [_metric(current.get(key), metric, empty) for key in keys]
        then = [_metric(previous.get(key), metric, empty) for key in keys]
        compared = compare_many(now, then, z)
        adjusted = holm([row["p_value"] for row in compared])
        per_metric[metric] = [
            {"current": a, "baseline": b, **row, "p_value_adjusted": p}
            for a, b, row, p in zip(now, then, compared, adjusted, strict=True)
        ]
    groups = [
        {
            "key": dict(zip(options.group_by, key, strict=True)),
            "overall": per_metric["overall"][index],
            "dimensions": {name: per_metric[name][index] for name in DIMENSIONS},
        }
        for index, key in enumerate(keys)
    ]
    query = query_echo(
        CompareQuery, scope, options, baseline_from=baseline[0], baseline_to=baseline[1]
    )
    return {"query": query, "groups": groups}


def _key(key: dict[str, Any], options: ScoreOptions) -> tuple[Any, ...]:
    return tuple(key[name] for name in options.group_by)


def _metric(group: dict[str, Any] | None, metric: str, empty: dict[str, Any]) -> dict[str, Any]:
    return empty if group is None else metric_of(group, metric)


def _empty_metric(options: ScoreOptions) -> dict[str, Any]:
    (row,) = summarise_many(
        np.zeros((1, 3), dtype=np.int64),
        np.zeros((1, 3)),
        np.zeros(1),
        weighted=options.weighted,
        z=z_for(options.confidence),
        min_n=options.min_n,
    )
    return row
