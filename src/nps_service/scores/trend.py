"""GET /v1/scores/trend: is a group's NPS rising or falling, and is that more than noise?"""

from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.responses.models import DIMENSIONS
from nps_service.rollups.models import METRICS
from nps_service.scores.buckets import Interval
from nps_service.scores.query import group_totals
from nps_service.scores.schemas import TrendQuery
from nps_service.scores.service import (
    ScoreOptions,
    key_order_tuple,
    metric_of,
    query_echo,
    score_groups,
)
from nps_service.scores.stats import adjusted_wald, weighted_trend, z_for


def compute_trend(
    session: Session, scope: ResponseFilter, options: ScoreOptions, interval: Interval
) -> dict[str, Any]:
    """Per group (group_by) and metric: the WLS slope of the buckets' NPS over time."""
    totals = group_totals(
        session, scope, interval=interval, group_by=options.group_by, weighted=options.weighted
    )
    series: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for group in score_groups(totals, options):
        key = tuple(group["key"][name] for name in options.group_by)
        series.setdefault(key, []).append(group)
    names = options.group_by
    keys = sorted(series, key=lambda key: key_order_tuple(dict(zip(names, key)), names))  # noqa: B905
    if options.limit is not None:
        keys = keys[: options.limit]
    z = z_for(options.confidence)
    groups = []
    for key in keys:
        buckets = sorted(series[key], key=lambda group: group["key"]["bucket"])
        first = date.fromisoformat(buckets[0]["key"]["bucket"])
        positions = [
            _position(first, date.fromisoformat(b["key"]["bucket"]), interval) for b in buckets
        ]
        metrics = {}
        for metric in METRICS:
            rows = [metric_of(bucket, metric) for bucket in buckets]
            metrics[metric] = _metric_trend(positions, rows, z)
        groups.append(
            {
                "key": dict(zip(names, key)),  # noqa: B905 - same length
                "first_bucket": buckets[0]["key"]["bucket"],
                "last_bucket": buckets[-1]["key"]["bucket"],
                "overall": metrics["overall"],
                "dimensions": {name: metrics[name] for name in DIMENSIONS},
            }
        )
    query = query_echo(TrendQuery, scope, options, interval=interval.value)
    return {"query": query, "groups": groups}


def _position(first: date, bucket: date, interval: Interval) -> float:
    """Buckets since the first one (gaps without answers keep their place in time)."""
    if interval is Interval.MONTH:
        return float((bucket.year - first.year) * 12 + bucket.month - first.month)
    days = (bucket - first).days
    return days / 7 if interval is Interval.WEEK else float(days)


def _metric_trend(positions: list[float], rows: list[dict[str, Any]], z: float) -> dict[str, Any]:
    """Buckets with an NPS (answers, not suppressed) weigh by 1/SE² of their adjusted-Wald
    estimate, SE in points."""
    used = [(x, row) for x, row in zip(positions, rows, strict=True) if row["nps"] is not None]
    effective_n = np.array([row["effective_n"] for _, row in used], dtype=np.float64)
    promoters = effective_n * np.array([row["promoter_share"] for _, row in used])
    detractors = effective_n * np.array([row["detractor_share"] for _, row in used])
    _, se = adjusted_wald(promoters, detractors, effective_n)
    return weighted_trend(
        [x for x, _ in used], [row["nps"] for _, row in used], (100.0 * se).tolist(), z
    )
