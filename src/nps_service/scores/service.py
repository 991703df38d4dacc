"""Turn grouped class totals into scored, sorted groups."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from nps_service.filters import ResponseFilter
from nps_service.responses.models import DIMENSIONS
from nps_service.scores.buckets import Interval
from nps_service.scores.query import GroupTotals, group_totals
from nps_service.scores.schemas import ScoreQuery
from nps_service.scores.stats import SUMMARY_FIELDS, summary_values, z_for


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
    scorer = _GroupScorer(options)
    groups = _sorted([scorer.score(group) for group in totals], options)
    if options.limit is not None:
        groups = groups[: options.limit]
    query = ScoreQuery.model_validate(
        {
            **scope.echo(),
            "interval": options.interval.value if options.interval else None,
            "group_by": options.group_by,
            "weighted": options.weighted,
            "confidence": options.confidence,
            "min_n": options.min_n,
            "sort": options.sort,
            "limit": options.limit,
        }
    )
    return {"query": query.model_dump(mode="json", by_alias=True), "groups": groups}


class _GroupScorer:
    """Scores one group's sums (laid out as `sum_labels` lists them) per metric."""

    def __init__(self, options: ScoreOptions) -> None:
        self._weighted = options.weighted
        self._z = z_for(options.confidence)
        self._min_n = options.min_n
        self._stride = 7 if options.weighted else 3  # sums per metric

    def score(self, group: GroupTotals) -> dict[str, Any]:
        sums, weighted, z, min_n = group.sums, self._weighted, self._z, self._min_n
        metrics = []
        for at in range(0, len(sums), self._stride):
            values = summary_values(
                sums[at],
                sums[at + 1],
                sums[at + 2],
                (sums[at + 3], sums[at + 4], sums[at + 5]) if weighted else _NO_WEIGHTS,
                sums[at + 6] if weighted else 0.0,
                weighted=weighted,
                z=z,
                min_n=min_n,
            )
            metrics.append(dict(zip(SUMMARY_FIELDS, values)))  # noqa: B905 - same length
        return {
            "key": group.key,
            "overall": metrics[0],
            "dimensions": dict(zip(DIMENSIONS, metrics[1:])),  # noqa: B905
        }


_NO_WEIGHTS = (0.0, 0.0, 0.0)


def _sorted(groups: list[dict[str, Any]], options: ScoreOptions) -> list[dict[str, Any]]:
    descending = options.sort.startswith("-")
    field = options.sort.lstrip("-")
    key_order = (["bucket"] if options.interval else []) + options.group_by

    def key_tuple(group: dict[str, Any]) -> list[tuple[bool, str]]:
        # Null tag values sort after real values (before them when descending).
        key = group["key"]
        return [(key[name] is None, key[name] or "") for name in key_order]

    if field == "key":
        return sorted(groups, key=key_tuple, reverse=descending)
    with_value = [g for g in groups if g["overall"][field] is not None]
    without = [g for g in groups if g["overall"][field] is None]
    # Ties fall back to the key order so results are deterministic.
    with_value.sort(key=key_tuple)
    with_value.sort(key=lambda g: g["overall"][field], reverse=descending)
    return with_value + sorted(without, key=key_tuple)
