"""Where a score is computed: the engine's totals, the statistics per group, the order."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from nps_service.filters import ResponseFilter
from nps_service.rollups import GroupKey, GroupTotals, TotalsEngine, TotalsQuery
from nps_service.scores import buckets
from nps_service.scores.encode import body_json, groups_json
from nps_service.scores.params import ScoreOptions
from nps_service.scores.schemas import ScoreQuery
from nps_service.stats.nps import MetricColumns, summarise_columns, z_for
from nps_service.survey import DIMENSIONS, METRICS, Interval

# A bucketed group's key fields before its group_by fields.
BUCKET_KEYS = ("bucket", "bucket_start")


def totals_for(
    engine: TotalsEngine,
    scope: ResponseFilter,
    options: ScoreOptions,
    *,
    interval: bool = True,
    moments: bool = False,
    displays: bool = False,
) -> GroupTotals:
    """The engine's totals for these options (without buckets if `interval` is False)."""
    query = TotalsQuery(
        scope,
        options.interval if interval else None,
        options.group_by,
        options.weighted,
        moments,
        displays,
    )
    return engine.group_totals(query)


@dataclass(frozen=True)
class ScoredGroups:
    """Every group's key and, per metric, its statistics as columns."""

    keys: list[GroupKey]
    metrics: dict[str, MetricColumns]  # by METRICS name
    displays: npt.NDArray[np.int64] | None = None  # shown, answered, declined per group
    partial: list[bool] | None = None  # per group, with buckets (`scores.buckets`)

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self, order: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """The groups as `ScoreGroup` dicts (in `order` when given)."""
        picked = list(range(len(self.keys))) if order is None else list(order)
        per_metric = [self.metrics[metric].rows(picked) for metric in METRICS]
        rows = [
            {"key": self.keys[i], "overall": overall, "dimensions": dict(zip(DIMENSIONS, dims))}  # noqa: B905
            for i, overall, *dims in zip(picked, *per_metric, strict=True)
        ]
        if self.displays is not None:
            for row, i in zip(rows, picked, strict=True):
                row["displays"] = display_counts(self.displays[i])
        if self.partial is not None:
            for row, i in zip(rows, picked, strict=True):
                row["partial"] = self.partial[i]
        return rows

    def with_bucket_starts(
        self, interval: Interval | None, scope: ResponseFilter
    ) -> "ScoredGroups":
        """With buckets: each key with `bucket_start`, and each group's `partial` flag."""
        if interval is None:
            return self
        keys, partial = buckets.with_bucket_starts(self.keys, interval, scope)
        return replace(self, keys=keys, partial=partial)


def display_counts(counts: npt.NDArray[np.int64] | Sequence[int] | None) -> dict[str, Any] | None:
    """`{shown, answered, declined, response_rate}`; the rate is answered / shown, null
    when nothing was shown."""
    if counts is None:
        return None
    shown, answered, declined = (int(value) for value in counts)
    rate = answered / shown if shown else None
    return {"shown": shown, "answered": answered, "declined": declined, "response_rate": rate}


@dataclass(frozen=True)
class ScoresResult:
    """A `/v1/scores` answer before it is written as JSON or CSV."""

    query: dict[str, Any]
    scored: ScoredGroups
    order: list[int]  # the groups to show, in order (sorted, limited)
    key_names: list[str]  # `bucket`, `bucket_start` with an interval, then group_by fields

    def json(self) -> bytes:
        metrics = [self.scored.metrics[metric] for metric in METRICS]
        groups = groups_json(
            self.key_names,
            self.scored.keys,
            metrics,
            self.order,
            self.scored.displays,
            self.scored.partial,
        )
        return body_json(self.query, groups)


def compute_scores(
    engine: TotalsEngine, scope: ResponseFilter, options: ScoreOptions
) -> ScoresResult:
    """Aggregate in SQL, then apply the statistics per metric over all groups and order
    them; the groups stay columns until they are written."""
    scored = score_columns(totals_for(engine, scope, options, displays=True), options)
    scored = scored.with_bucket_starts(options.interval, scope)
    order = group_order(scored, options)
    if options.limit is not None:
        order = order[: options.limit]
    query = query_echo(
        ScoreQuery,
        scope,
        options,
        interval=options.interval.value if options.interval else None,
        sort=options.sort,
    )
    key_names = (list(BUCKET_KEYS) if options.interval else []) + options.group_by
    return ScoresResult(query, scored, order, key_names)


def query_echo(
    model: type[BaseModel], scope: ResponseFilter, options: ScoreOptions, **extra: Any
) -> dict[str, Any]:
    """The `query` part of a body: filters and options as the server understood them."""
    echo = {
        **scope.echo(),
        "group_by": options.group_by,
        "weighted": options.weighted,
        "confidence": options.confidence,
        "min_n": options.min_n,
        "limit": options.limit,
        **extra,
    }
    return model.model_validate(echo).model_dump(mode="json", by_alias=True)


def score_columns(totals: GroupTotals, options: ScoreOptions) -> ScoredGroups:
    """Every group's statistics, computed a metric at a time over all groups."""
    z = z_for(options.confidence)
    metrics = {
        metric: summarise_columns(
            sums.counts,
            sums.class_weights,
            sums.weight_squares,
            weighted=options.weighted,
            z=z,
            min_n=options.min_n,
        )
        for metric, sums in totals.metrics.items()
    }
    return ScoredGroups(list(totals.keys), metrics, totals.displays)


def score_groups(totals: GroupTotals, options: ScoreOptions) -> list[dict[str, Any]]:
    """Every group as a `ScoreGroup` dict."""
    return score_columns(totals, options).rows() if len(totals) else []


def metric_of(group: dict[str, Any], metric: str) -> dict[str, Any]:
    """One metric (`overall` or a dimension) of a scored group."""
    scores: dict[str, Any] = (
        group["overall"] if metric == "overall" else group["dimensions"][metric]
    )
    return scores


def key_order_tuple(key: dict[str, Any], names: list[str]) -> list[tuple[bool, str]]:
    """Sort key for group keys: by each field in turn, null values after real ones."""
    return [(key[name] is None, key[name] or "") for name in names]


def group_order(scored: ScoredGroups, options: ScoreOptions) -> list[int]:
    """The groups' indexes in `options.sort` order: `key` (each field in turn, nulls last),
    or an overall field with nulls last and ties in key order; `-` for descending."""
    descending = options.sort.startswith("-")
    field = options.sort.lstrip("-")
    names = (["bucket"] if options.interval else []) + options.group_by
    keys = scored.keys
    by_key = sorted(range(len(keys)), key=lambda i: key_order_tuple(keys[i], names))
    if field == "key":
        return by_key[::-1] if descending else by_key  # keys are distinct: no ties
    column = getattr(scored.metrics["overall"], field)
    present = ~np.isnan(column) if column.dtype.kind == "f" else np.ones(len(keys), dtype=bool)
    values = column.tolist()
    with_value = [i for i in by_key if present[i]]
    # Stable: ties keep the key order, also when descending.
    with_value.sort(key=values.__getitem__, reverse=descending)
    return with_value + [i for i in by_key if not present[i]]
