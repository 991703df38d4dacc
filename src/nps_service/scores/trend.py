"""GET /v1/scores/trend: is a group's NPS rising or falling, and is that more than noise?"""

from datetime import date
from typing import Any

from nps_service.filters import ResponseFilter
from nps_service.rollups import TotalsEngine
from nps_service.scores.buckets import bucket_bounds
from nps_service.scores.params import ScoreOptions
from nps_service.scores.schemas import TrendQuery
from nps_service.scores.service import (
    key_order_tuple,
    metric_of,
    query_echo,
    score_groups,
    totals_for,
)
from nps_service.stats.nps import z_for
from nps_service.stats.trend import bucket_trend
from nps_service.survey import DIMENSIONS, METRICS, Interval


def compute_trend(
    engine: TotalsEngine, scope: ResponseFilter, options: ScoreOptions, interval: Interval
) -> dict[str, Any]:
    """Per group (group_by) and metric: the WLS slope of the buckets' NPS over time; the
    first and last buckets with their first instants and whether the range cuts them."""
    totals = totals_for(engine, scope, options)
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
        edges = (buckets[0], buckets[-1])
        first = date.fromisoformat(buckets[0]["key"]["bucket"])
        positions = [
            _position(first, date.fromisoformat(b["key"]["bucket"]), interval) for b in buckets
        ]
        metrics = {}
        for metric in METRICS:
            rows = [metric_of(bucket, metric) for bucket in buckets]
            metrics[metric] = bucket_trend(positions, rows, z)
        head, tail = (bucket_bounds(b["key"]["bucket"], interval, scope) for b in edges)
        groups.append(
            {
                "key": dict(zip(names, key)),  # noqa: B905 - same length
                "first_bucket": edges[0]["key"]["bucket"],
                "first_bucket_start": head.start,
                "first_bucket_partial": head.partial,
                "last_bucket": edges[1]["key"]["bucket"],
                "last_bucket_start": tail.start,
                "last_bucket_partial": tail.partial,
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
