"""Turn grouped class totals into scored, sorted groups."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.responses.models import DIMENSIONS
from nps_service.rollups.models import METRICS
from nps_service.scores.buckets import Interval
from nps_service.scores.query import GroupTotals, group_totals
from nps_service.scores.schemas import ScoreQuery
from nps_service.scores.stats import summarise_many, z_for


@dataclass(frozen=True)
class ScoreOptions:
    """Validated score parameters besides the shared filters."""

    interval: Interval | None
    group_by: list[str]
    weighted: bool
    confidence: float
    min_n: int
    sort: str
    limit: int | None


def compute_scores(
    session: Session, scope: ResponseFilter, options: ScoreOptions
) -> dict[str, Any]:
    """Aggregate in SQL, then apply the statistics per group and order the groups.

    Returns the body in the shape of `ScoresOut`, as plain dicts: thousands of groups are
    built and serialised per request, and model objects would cost more than the query.
    """
    totals = group_totals(
        session,
        scope,
        interval=options.interval,
        group_by=options.group_by,
        weighted=options.weighted,
    )
    groups = sort_groups(score_groups(totals, options), options)
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


def score_groups(totals: list[GroupTotals], options: ScoreOptions) -> list[dict[str, Any]]:
    """Every group's metrics, computed a metric at a time over all groups."""
    if not totals:
        return []
    stride = 7 if options.weighted else 3  # sums per metric, as sum_labels lays them out
    table = np.array(
        [group.sums for group in totals], dtype=np.float64 if options.weighted else np.int64
    )
    per_metric = []
    for index in range(len(METRICS)):
        at = index * stride
        weighted = options.weighted
        per_metric.append(
            summarise_many(
                table[:, at : at + 3].astype(np.int64),
                table[:, at + 3 : at + 6].astype(np.float64) if weighted else _NO_WEIGHTS,
                table[:, at + 6].astype(np.float64) if weighted else _NO_SQUARES,
                weighted=weighted,
                z=z_for(options.confidence),
                min_n=options.min_n,
            )
        )
    return [
        {
            "key": group.key,
            "overall": overall,
            "dimensions": dict(zip(DIMENSIONS, dimensions)),  # noqa: B905 - same length
        }
        for group, overall, *dimensions in zip(totals, *per_metric, strict=True)
    ]


_NO_WEIGHTS: npt.NDArray[np.float64] = np.zeros((0, 3))
_NO_SQUARES: npt.NDArray[np.float64] = np.zeros(0)


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
