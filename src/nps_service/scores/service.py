"""Where a score is computed: the engine's totals, the statistics per group, the order."""

from typing import Any

from pydantic import BaseModel

from nps_service.filters import ResponseFilter
from nps_service.rollups import GroupTotals, TotalsEngine, TotalsQuery
from nps_service.scores.params import ScoreOptions
from nps_service.scores.schemas import ScoreQuery
from nps_service.stats.nps import summarise_many, z_for
from nps_service.survey import DIMENSIONS, METRICS


def totals_for(
    engine: TotalsEngine,
    scope: ResponseFilter,
    options: ScoreOptions,
    *,
    interval: bool = True,
    moments: bool = False,
) -> GroupTotals:
    """The engine's totals for these options (without buckets if `interval` is False)."""
    query = TotalsQuery(
        scope,
        options.interval if interval else None,
        options.group_by,
        options.weighted,
        moments,
    )
    return engine.group_totals(query)


def compute_scores(
    engine: TotalsEngine, scope: ResponseFilter, options: ScoreOptions
) -> dict[str, Any]:
    """Aggregate in SQL, then apply the statistics per group and order the groups.

    Returns the body in the shape of `ScoresOut`, as plain dicts: thousands of groups are
    built and serialised per request, and model objects would cost more than the query.
    """
    groups = sort_groups(score_groups(totals_for(engine, scope, options), options), options)
    if options.limit is not None:
        groups = groups[: options.limit]
    query = query_echo(
        ScoreQuery,
        scope,
        options,
        interval=options.interval.value if options.interval else None,
        sort=options.sort,
    )
    return {"query": query, "groups": groups}


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


def score_groups(totals: GroupTotals, options: ScoreOptions) -> list[dict[str, Any]]:
    """Every group's metrics, computed a metric at a time over all groups."""
    if not len(totals):
        return []
    z = z_for(options.confidence)
    per_metric = [
        summarise_many(
            sums.counts,
            sums.class_weights,
            sums.weight_squares,
            weighted=options.weighted,
            z=z,
            min_n=options.min_n,
        )
        for sums in (totals.metrics[metric] for metric in METRICS)
    ]
    return [
        {"key": key, "overall": overall, "dimensions": dict(zip(DIMENSIONS, dimensions))}  # noqa: B905
        for key, overall, *dimensions in zip(totals.keys, *per_metric, strict=True)
    ]


def metric_of(group: dict[str, Any], metric: str) -> dict[str, Any]:
    """One metric (`overall` or a dimension) of a scored group."""
    scores: dict[str, Any] = (
        group["overall"] if metric == "overall" else group["dimensions"][metric]
    )
    return scores


def key_order_tuple(key: dict[str, Any], names: list[str]) -> list[tuple[bool, str]]:
    """Sort key for group keys: by each field in turn, null values after real ones."""
    return [(key[name] is None, key[name] or "") for name in names]


def sort_groups(groups: list[dict[str, Any]], options: ScoreOptions) -> list[dict[str, Any]]:
    """Groups in `options.sort` order (`key`, or an overall field, `-` for descending)."""
    descending = options.sort.startswith("-")
    field = options.sort.lstrip("-")
    key_order = (["bucket"] if options.interval else []) + options.group_by

    def key_tuple(group: dict[str, Any]) -> list[tuple[bool, str]]:
        return key_order_tuple(group["key"], key_order)

    if field == "key":
        return sorted(groups, key=key_tuple, reverse=descending)
    with_value = [g for g in groups if g["overall"][field] is not None]
    without = [g for g in groups if g["overall"][field] is None]
    # Ties fall back to the key order so results are deterministic.
    with_value.sort(key=key_tuple)
    with_value.sort(key=lambda g: g["overall"][field], reverse=descending)
    return with_value + sorted(without, key=key_tuple)
